/**
 * Model references: a directory holding model.onnx + manifest.json, or a registry version
 * `name@version` turned into such a directory by a resolver the registry installs
 * (`setModelResolver`). Resolution is asynchronous (it may download); strategies resolve in their
 * `prepare` step and read the cached directory in their synchronous `positions`.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../../errors';

export interface ModelRef {
  readonly name: string;
  readonly version: string;
}

/** Returns a local directory holding the version's model.onnx and manifest.json. */
export type ModelResolver = (ref: ModelRef) => Promise<string>;

let resolver: ModelResolver | undefined;
const resolved = new Map<string, string>();

/** Installs (or with undefined removes) the registry's resolver; clears earlier resolutions. */
export function setModelResolver(r: ModelResolver | undefined): void {
  resolver = r;
  resolved.clear();
}

const REF_RE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})@([A-Za-z0-9][A-Za-z0-9:._-]{0,63})$/;

/** `name@version` when `ref` is one (and no such path exists), else undefined (a directory path). */
export function parseModelRef(ref: string): ModelRef | undefined {
  if (existsSync(ref)) return undefined;
  const m = REF_RE.exec(ref);
  return m ? { name: m[1], version: m[2] } : undefined;
}

/** Resolves `ref` to a directory (a path is returned as it is). */
export async function resolveModelRef(ref: string, field = 'param.model'): Promise<string> {
  const r = parseModelRef(ref);
  if (!r) return ref;
  const hit = resolved.get(ref);
  if (hit) return hit;
  if (!resolver)
    throw new InputError(
      `${field}: "${ref}" is a registry version but no model registry is configured here; give a model directory`,
      field,
    );
  const dir = await resolver(r);
  resolved.set(ref, dir);
  return dir;
}

/** The directory of `ref` without waiting: a path, or a registry version resolved earlier. */
export function resolvedModelDir(ref: string, field = 'param.model'): string {
  const r = parseModelRef(ref);
  if (!r) return ref;
  const hit = resolved.get(ref);
  if (hit) return hit;
  throw new InputError(
    `${field}: registry version "${ref}" was not resolved (the caller must await prepareStrategy first)`,
    field,
  );
}

/**
 * The directories of every registry version among `values` (other values are ignored), resolved
 * here, for a thread or process that cannot reach the registry itself (a sweep's worker threads).
 */
export async function resolveModelRefs(values: Iterable<unknown>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const v of values)
    if (typeof v === 'string' && !Object.hasOwn(out, v) && parseModelRef(v))
      out[v] = await resolveModelRef(v);
  return out;
}

/** A resolver that answers from directories resolved elsewhere (see resolveModelRefs). */
export function pinnedModelResolver(dirs: Readonly<Record<string, string>>): ModelResolver {
  return async ({ name, version }) => {
    const ref = `${name}@${version}`;
    if (!Object.hasOwn(dirs, ref))
      throw new InputError(
        `param.model: registry version "${ref}" was not resolved for this run`,
        'param.model',
      );
    return dirs[ref];
  };
}
