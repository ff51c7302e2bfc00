import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory for one test's database files. */
export function tempDir(prefix = 'sl-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes files immutable (a real read-only file, even for root) or writable again. */
export function setImmutable(files: string[], on: boolean): void {
  const present = files.filter((f) => existsSync(f));
  if (present.length) execFileSync('chattr', [on ? '+i' : '-i', ...present]);
}
