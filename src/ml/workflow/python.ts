/**
 * The Python the local training step runs: `/usr/bin/python3` (Debian's, which sees the apt
 * packages; a pyenv python3 earlier on PATH would not), or `$QUANT_PYTHON`. `checkPython` says
 * exactly what is missing and how to get it.
 */
import { spawn } from 'node:child_process';
import { InputError } from '../../errors';

/** Environment variable naming another Python executable. */
export const PYTHON_ENV = 'QUANT_PYTHON';
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** Modules train.py imports, with the Debian package of each. */
export const PYTHON_MODULES: ReadonlyArray<{ module: string; apt: string }> = [
  { module: 'torch', apt: 'python3-torch' },
  { module: 'onnx', apt: 'python3-onnx' },
  { module: 'pandas', apt: 'python3-pandas' },
  { module: 'numpy', apt: 'python3-numpy' },
];

export const APT_HINT = 'apt-get install python3-torch python3-onnx python3-pandas';

export const pythonOf = (env: Readonly<Record<string, string | undefined>> = process.env): string =>
  env[PYTHON_ENV] || DEFAULT_PYTHON;

export type PythonCheck =
  | { readonly ok: true; readonly python: string; readonly version: string }
  | {
      readonly ok: false;
      readonly python: string;
      readonly missing: readonly string[];
      readonly message: string;
    };

/** Training cannot run here: the message says what is missing and how to get it (exit 2). */
export class PythonMissingError extends InputError {
  constructor(readonly check: Extract<PythonCheck, { ok: false }>) {
    super(check.message, 'python');
    this.name = 'PythonMissingError';
  }
}

// find_spec locates a module without importing it: importing torch takes seconds.
const PROBE = `
import importlib.util, json, sys
out = {"python": sys.version.split()[0], "missing": []}
for m in sys.argv[1:]:
    if importlib.util.find_spec(m) is None:
        out["missing"].append(m)
print(json.dumps(out))
`;
/** Runs the Python once to see which of the training modules it has (10 s timeout). */
export async function checkPython(python: string = pythonOf()): Promise<PythonCheck> {
  const modules = PYTHON_MODULES.map((m) => m.module);
  const r = await new Promise<{ code: number | null; out: string; err?: NodeJS.ErrnoException }>(
    (resolve) => {
      let out = '';
      const child = spawn(python, ['-c', PROBE, ...modules], {
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      });
      child.stdout.on('data', (d) => (out += d));
      child.on('error', (err) => resolve({ code: null, out, err }));
      child.on('close', (code) => resolve({ code, out }));
    },
  );
  if (r.err || r.code !== 0) {
    const why =
      r.err?.code === 'ENOENT'
        ? 'not found'
        : r.err
          ? r.err.message
          : r.code === null
            ? 'did not answer within 10 s'
            : `exited with ${r.code}`;
    return {
      ok: false,
      python,
      missing: ['python3', ...modules],
      message: `local training needs Python 3 with torch, onnx, pandas and numpy: ${python} ${why}. Install them with: apt-get install python3 python3-torch python3-onnx python3-pandas (or set ${PYTHON_ENV} to a Python that has them)`,
    };
  }
  const probe = JSON.parse(r.out) as { python: string; missing: string[] };
  if (probe.missing.length > 0) {
    const apt = PYTHON_MODULES.filter((m) => probe.missing.includes(m.module)).map((m) => m.apt);
    return {
      ok: false,
      python,
      missing: probe.missing,
      message: `local training needs the Python modules ${probe.missing.join(', ')}, which ${python} (Python ${probe.python}) does not have. Install them with: apt-get install ${apt.join(' ')} (all of them: ${APT_HINT})`,
    };
  }
  return { ok: true, python, version: probe.python };
}
