import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config/config.js'
import { SETTINGS } from '../../src/config/settings.js'

// No Render account or Docker engine here: these check the files' shape and that berth reads what they set.
const file = (name: string) => readFile(fileURLToPath(new URL(`../../${name}`, import.meta.url)), 'utf8')

/** Every environment variable berth reads (src/config/settings.ts). */
const BERTH_VARIABLES = new Set(Object.values(SETTINGS).flatMap((spec) => spec.env))

/** Compose interpolation as `docker compose` does it, with a stand-in value for each variable the user gives. */
function interpolate(value: string): string {
  return value
    .replace(/\$\{(\w+)(?::[-?][^}]*)?\}/g, (_all, name: string) => `given-${name.toLowerCase().replace(/_/g, '-')}`)
    .replace(/\$\$/g, '$')
}

describe('deploy/render-scale.yaml', () => {
  it('two or more instances without a disk, checked on /readyz, on Render PostgreSQL and a bucket the user names', async () => {
    const blueprint = parse(await file('deploy/render-scale.yaml')) as Record<string, any>
    const [database] = blueprint.databases as Record<string, any>[]
    const [service] = blueprint.services as Record<string, any>[]
    expect(database).toMatchObject({ postgresMajorVersion: '15', ipAllowList: [] })
    expect(service).toMatchObject({ type: 'web', runtime: 'node', healthCheckPath: '/readyz' })
    expect(service?.numInstances).toBeGreaterThanOrEqual(2)
    expect(service).not.toHaveProperty('disk')
    expect(service?.startCommand).toBe('node dist/cli/main.js serve')
    // The internal URL needs the service and the database in one region.
    expect(service?.region).toBe(database?.region)

    const env = Object.fromEntries(((service?.envVars ?? []) as { key: string }[]).map((v) => [v.key, v]))
    expect(env.DATABASE_URL).toEqual({
      key: 'DATABASE_URL',
      fromDatabase: { name: database?.name, property: 'connectionString' },
    })
    for (const key of [
      'BERTH_WORKSPACE_URL',
      'AWS_ENDPOINT_URL_S3',
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ]) {
      expect(env[key], key).toEqual({ key, sync: false })
    }
    expect(env.BERTH_AUTH_TOKEN).toMatchObject({ generateValue: true })
    // NODE_VERSION is Render's own (which Node it installs); every other variable is a berth setting.
    for (const key of Object.keys(env).filter((k) => k !== 'NODE_VERSION')) expect(BERTH_VARIABLES, key).toContain(key)
    const values = Object.fromEntries(
      Object.entries(env).flatMap(([k, v]) => ('value' in v ? [[k, String(v.value)]] : [])),
    )
    expect(loadConfig({ env: values, envFile: false }).databasePoolSize).toBe(10)
  })
})

describe('deploy/docker-compose.scale.yml', () => {
  async function compose() {
    return parse(await file('deploy/docker-compose.scale.yml'), { merge: true }) as Record<string, any>
  }
  const berthServices = (services: Record<string, any>) =>
    Object.entries(services).filter(([, s]) => s.image === 'berth:latest') as [string, Record<string, any>][]

  it('PostgreSQL 15, MinIO with its bucket made first, two berth instances that berth reads as PostgreSQL + S3', async () => {
    const { services } = await compose()
    expect(services.postgres.image).toBe('postgres:15')
    expect(services.postgres.healthcheck.test).toContain('pg_isready')
    const berths = berthServices(services)
    expect(berths.length).toBeGreaterThanOrEqual(2)
    for (const [name, berth] of berths) {
      expect(berth.build, name).toBe('..')
      expect(berth.ports, `${name} is reached through the proxy only`).toBeUndefined()
      expect(berth.volumes, `${name} keeps nothing on a disk of its own`).toBeUndefined()
      expect(berth.healthcheck.test.join(' '), name).toContain('/readyz')
      expect(berth.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        'create-bucket': { condition: 'service_completed_successfully' },
      })
      for (const key of Object.keys(berth.environment)) expect(BERTH_VARIABLES, `${name}: ${key}`).toContain(key)

      const env = Object.fromEntries(
        Object.entries(berth.environment as Record<string, string>).map(([k, v]) => [k, interpolate(v)]),
      )
      const config = loadConfig({ env, envFile: false })
      const database = new URL(config.databaseUrl as string)
      expect(database.hostname).toBe('postgres')
      expect(database.password).toBe('given-postgres-password')
      expect(database.pathname).toBe(`/${services.postgres.environment.POSTGRES_DB}`)
      expect(database.username).toBe(services.postgres.environment.POSTGRES_USER)
      expect(new URL(config.awsEndpointUrlS3 as string).hostname).toBe('minio')
      // The keys are MinIO's root user; the bucket is the one create-bucket makes.
      expect(config.awsAccessKeyId).toBe(services.minio.environment.MINIO_ROOT_USER)
      expect(config.awsSecretAccessKey).toBe(interpolate(services.minio.environment.MINIO_ROOT_PASSWORD))
      const bucket = (config.workspaceUrl as string).replace(/^s3:\/\/([^/]+).*$/, '$1')
      expect(services['create-bucket'].command.join(' ')).toMatch(
        new RegExp(`mc mb --ignore-existing local/${bucket}$`),
      )
      expect(config.authToken).toBe('given-berth-auth-token')
    }
    expect(services['create-bucket'].depends_on).toEqual({ minio: { condition: 'service_healthy' } })
  })

  it('a proxy on port 8000 that spreads requests over every berth instance, checking /readyz, no sticky sessions', async () => {
    const { services, configs } = await compose()
    const proxy = services.proxy
    expect(proxy.ports).toEqual(['8000:8000'])
    const caddyfile = configs[proxy.configs[0].source].content as string
    expect(proxy.configs[0].target).toBe('/etc/caddy/Caddyfile')
    const upstreams = caddyfile
      .match(/reverse_proxy ([^{]+)\{/)?.[1]
      ?.trim()
      .split(/\s+/)
    expect(upstreams).toEqual(berthServices(services).map(([name]) => `${name}:8000`))
    expect(caddyfile).toMatch(/health_uri \/readyz/)
    expect(caddyfile).not.toMatch(/lb_policy (cookie|ip_hash|client_ip_hash|header)/)
    for (const [name] of berthServices(services)) {
      expect(proxy.depends_on[name], name).toEqual({ condition: 'service_healthy' })
    }
  })
})
