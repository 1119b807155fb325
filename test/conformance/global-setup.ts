/**
 * The conformance suite needs CME's files: without them it fails (it never skips), saying what is
 * missing and where it looked.
 */
import { CME_DIR, missingCmeFiles } from './cme-data';

export default function setup(): void {
  const missing = missingCmeFiles();
  if (missing.length > 0)
    throw new Error(
      `conformance suite: CME's MDP 3.0 files are missing from ${CME_DIR}: ${missing
        .map((f) => f.slice(CME_DIR.length + 1))
        .join(', ')}. Put CME's schemas and captures in ../shared/data/cme-mdp3 next to the ` +
        'repository, or set QUANT_CME_DATA to the directory that holds them.',
    );
}
