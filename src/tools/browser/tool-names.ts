/**
 * The browser tools' names, the reference's, in the order `createBrowserTools`
 * returns them; the system prompt's browser section (src/agent/prompt/sections.ts)
 * is about exactly these.
 */
export const BROWSER_TOOL_NAMES = [
  'browser_navigation',
  'browser_restart',
  'browser_click',
  'browser_enter_text',
  'browser_press_key',
  'browser_scroll_down',
  'browser_scroll_up',
  'browser_wait',
  'browser_view_interactive_elements',
  'browser_switch_tab',
  'browser_open_new_tab',
  'browser_get_select_options',
  'browser_select_dropdown_option',
] as const
