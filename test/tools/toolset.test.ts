import { describe, expect, it } from 'vitest'
import { createToolset, toolSpecs } from '../../src/tools/toolset.js'

describe('toolSpecs', () => {
  const specs = toolSpecs(createToolset({ bashTimeout: 120, tavilyApiKey: 'k' }))
  const byName = Object.fromEntries(specs.map((spec) => [spec.name, spec]))

  it('describes every parameter and sends no $schema key', () => {
    for (const spec of specs) {
      expect(spec.description.length, spec.name).toBeGreaterThan(20)
      expect(spec.inputSchema.$schema, spec.name).toBeUndefined()
      expect(spec.inputSchema.type, spec.name).toBe('object')
      const properties = spec.inputSchema.properties as Record<string, { description?: string }>
      for (const [name, property] of Object.entries(properties)) {
        expect(property.description, `${spec.name}.${name}`).toMatch(/\w/)
      }
      expect(JSON.stringify(spec.inputSchema)).not.toContain('9007199254740991')
    }
  })

  it('keeps the reference names, required parameters and types', () => {
    const shape = (name: string) => {
      const schema = byName[name]?.inputSchema as { properties: Record<string, { type?: string }>; required?: string[] }
      return {
        required: schema.required ?? [],
        types: Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, value.type])),
      }
    }
    expect(shape('bash')).toEqual({ required: ['command'], types: { command: 'string', timeout: 'number' } })
    expect(shape('str_replace_editor')).toEqual({
      required: ['command', 'path'],
      types: {
        command: 'string',
        path: 'string',
        file_text: 'string',
        old_str: 'string',
        new_str: 'string',
        insert_line: 'integer',
        view_range: 'array',
      },
    })
    const editorProperties = byName.str_replace_editor?.inputSchema.properties as Record<string, { enum?: string[] }>
    expect(editorProperties.command?.enum).toEqual(['view', 'create', 'str_replace', 'insert', 'undo_edit'])
    expect(shape('static_deploy')).toEqual({ required: ['file_path'], types: { file_path: 'string' } })
    expect(shape('sequential_thinking').required).toEqual([
      'thought',
      'nextThoughtNeeded',
      'thoughtNumber',
      'totalThoughts',
    ])
    expect(shape('sequential_thinking').types).toMatchObject({
      thoughtNumber: 'integer',
      nextThoughtNeeded: 'boolean',
      isRevision: 'boolean',
      branchId: 'string',
    })
    expect(shape('message_user')).toEqual({ required: ['text'], types: { text: 'string' } })
    expect(shape('complete')).toEqual({ required: ['answer'], types: { answer: 'string' } })
    expect(shape('web_search')).toEqual({ required: ['query'], types: { query: 'string', max_results: 'integer' } })
    expect(shape('visit_webpage')).toEqual({ required: ['url'], types: { url: 'string' } })
    expect(shape('list_files')).toEqual({ required: [], types: { path: 'string', depth: 'integer' } })
  })
})
