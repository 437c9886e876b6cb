import { createContext } from 'react'
import type { FileSource } from '../lib/api.js'

/**
 * Where the chat's workspace files come from: the owner's file routes, a
 * share link's read-only ones, or null while there is nothing to read. Tool
 * cards use it to show the images a tool returned.
 */
export const FileSourceContext = createContext<FileSource | null>(null)
