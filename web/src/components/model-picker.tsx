import type { ModelCatalog } from '../lib/api-types.js'

/** The configured providers' models; the others are listed disabled with the key that would enable them. */
export function ModelPicker(props: {
  catalog: ModelCatalog | null
  value: string | null
  onChange: (id: string | null) => void
}) {
  const { catalog } = props
  if (!catalog) return null
  const fallback = catalog.models.find((m) => m.isDefault)
  return (
    <select
      className="model-picker"
      aria-label="Model"
      value={props.value ?? ''}
      onChange={(e) => props.onChange(e.target.value || null)}
    >
      <option value="">Default{fallback ? `: ${fallback.model.split('/').pop()}` : ''}</option>
      {catalog.providers.map((provider) => {
        const models = catalog.models.filter((m) => m.provider === provider.id)
        if (models.length === 0) return null
        const suffix = provider.configured ? '' : ` (set ${provider.keyVariable})`
        return (
          <optgroup key={provider.id} label={`${provider.label}${suffix}`}>
            {models.map((model) => (
              <option key={model.id} value={model.id} disabled={!model.configured}>
                {model.model}
              </option>
            ))}
          </optgroup>
        )
      })}
    </select>
  )
}

/** True when no provider has a key: nothing can run until the admin sets one. */
export function noProviderConfigured(catalog: ModelCatalog | null): boolean {
  return catalog !== null && !catalog.providers.some((p) => p.configured)
}
