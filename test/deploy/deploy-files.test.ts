import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// No Docker engine or Render account here: these check what can be checked without one.
const file = (name: string) => readFile(fileURLToPath(new URL(`../../${name}`, import.meta.url)), 'utf8')

describe('deployment files', () => {
  it('render.yaml: a web service with a health check, a disk at /var/data, the key as a secret, a generated token', async () => {
    const blueprint = parse(await file('render.yaml')) as { services: Record<string, any>[] }
    const [service] = blueprint.services
    expect(service).toMatchObject({ type: 'web', runtime: 'node', healthCheckPath: '/healthz' })
    expect(service?.startCommand).toContain('serve')
    expect(service?.buildCommand).toContain('npm run build')
    expect(service?.disk).toMatchObject({ mountPath: '/var/data' })
    expect(service?.disk.sizeGB).toBeGreaterThan(0)
    const env = Object.fromEntries(((service?.envVars ?? []) as { key: string }[]).map((v) => [v.key, v]))
    expect(env.CHUTES_API_KEY).toMatchObject({ sync: false })
    expect(env.BERTH_AUTH_TOKEN).toMatchObject({ generateValue: true })
  })

  it('Dockerfile: native modules built in a build stage, a slim non-root runtime owning /var/data, a volume and a health check', async () => {
    const text = await file('Dockerfile')
    const stages = text.split(/^FROM /m).slice(1)
    expect(stages).toHaveLength(2)
    const [build, runtime] = stages as [string, string]
    expect(build).toMatch(/AS build/)
    expect(build).toMatch(/npm ci/)
    expect(build).toMatch(/g\+\+/)
    expect(runtime).not.toMatch(/g\+\+|npm ci/)
    expect(runtime).toMatch(/COPY --from=build/)
    expect(runtime).toMatch(/chown berth:berth \/var\/data/)
    expect(runtime).toMatch(/^USER berth$/m)
    expect(runtime).toMatch(/^VOLUME \/var\/data$/m)
    expect(runtime).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m)
    expect(runtime).toMatch(/CMD \["node", "dist\/cli\/main.js", "serve"\]/)
    // The agent's shell can compute: the packages the README documents, installed in the runtime stage.
    const readme = await file('README.md')
    const installed = (runtime.match(/apt-get install(?:[^\n]*\\\n)*[^\n]*/g) ?? []).join(' ').split(/[\s\\]+/)
    for (const name of [
      'bubblewrap',
      'python3-pandas',
      'python3-openpyxl',
      'python3-xlrd',
      'poppler-utils',
      'ffmpeg',
      'chromium',
    ]) {
      expect(installed, name).toContain(name)
      expect(readme, name).toContain(name)
    }
  })

  it('docker-compose.yml: a named volume at /var/data', async () => {
    const compose = parse(await file('docker-compose.yml')) as Record<string, any>
    expect(compose.services.berth.volumes).toContain('berth-data:/var/data')
    expect(compose.volumes).toHaveProperty('berth-data')
  })

  it('the systemd unit runs berth serve with an explicit data root and a graceful stop', async () => {
    const unit = await file('deploy/berth.service')
    expect(unit).toMatch(/^ExecStart=.*dist\/cli\/main\.js serve$/m)
    expect(unit).toMatch(/^Environment=BERTH_DATA_DIR=\/var\/lib\/berth$/m)
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m)
    expect(unit).toMatch(/^User=berth$/m)
  })
})
