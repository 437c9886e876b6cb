/** One line of `/proc/self/mountinfo`, the fields berth needs. */
export interface MountEntry {
  mountPoint: string
  fsType: string
  source: string
}

/**
 * Parse the text of `/proc/self/mountinfo` (see proc(5)). Lines look like
 * `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw`: the
 * mount point is field 5, and after the `-` separator come the fs type and
 * the source. The optional fields before `-` vary in number, hence the
 * separator search. Malformed lines are skipped rather than failing the boot.
 *
 * @example
 *   parseMountinfo('27 1 254:0 / / rw - ext4 /dev/vda rw')
 *   // [{ mountPoint: '/', fsType: 'ext4', source: '/dev/vda' }]
 */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ')
    const sep = fields.indexOf('-', 6)
    const mountPoint = fields[4]
    const fsType = fields[sep + 1]
    if (sep < 0 || mountPoint === undefined || fsType === undefined) continue
    entries.push({
      mountPoint: unescapeOctal(mountPoint),
      fsType: unescapeOctal(fsType),
      source: unescapeOctal(fields[sep + 2] ?? ''),
    })
  }
  return entries
}

/** The kernel writes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`. */
export function unescapeOctal(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}
