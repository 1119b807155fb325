/**
 * CME's own MDP 3.0 files for the conformance suite: its published schemas (versions 9 and 13) and
 * two real captures. They are not in the repository: by default they are looked for in
 * ../shared/data/cme-mdp3 next to the clone; QUANT_CME_DATA names another directory.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export const CME_DIR = path.resolve(REPO_ROOT, process.env.QUANT_CME_DATA ?? '../shared/data/cme-mdp3');
export const SCHEMA_V9 = path.join(CME_DIR, 'schema/templates_FixBinary.v9.xml');
export const SCHEMA_V13 = path.join(CME_DIR, 'schema/templates_FixBinary.v13.xml');
export const CAPTURE_V9 = path.join(CME_DIR, 'captures/v9-incremental-book.pcap');
export const CAPTURE_V12_TCP = path.join(CME_DIR, 'captures/v12-snapshot-tcp.pcap');

/** The files that are missing, or none. */
export function missingCmeFiles(): string[] {
  return [SCHEMA_V9, SCHEMA_V13, CAPTURE_V9, CAPTURE_V12_TCP].filter((f) => !existsSync(f));
}
