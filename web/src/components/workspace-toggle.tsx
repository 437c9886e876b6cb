/** The header's "Files" button, which shows and hides the workspace panel (`#workspace-panel`). */
export function WorkspaceToggle(props: { open: boolean; onToggle: () => void }) {
  return (
    <button
      type="button"
      className="button workspace-toggle"
      aria-expanded={props.open}
      aria-controls="workspace-panel"
      onClick={props.onToggle}
    >
      Files
    </button>
  )
}
