/**
 * A tiny, safe expression language for `--where` filters over grid parameters, e.g.
 * `fast<slow`, `slow >= 2*fast && (short || fast>5)`. Parsed to an AST and interpreted: no eval,
 * no property access, no calls, so a filter can never reach anything but the parameter values.
 */
import { InputError } from '../errors';

/** Text values (a model reference) only compare with == and != (there are no text literals). */
export type Value = number | boolean | string;

export type WhereExpr =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'unary'; readonly op: '!' | '-'; readonly arg: WhereExpr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: WhereExpr; readonly right: WhereExpr };

type BinaryOp = '+' | '-' | '*' | '/' | '%' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||';

interface Token {
  readonly type: 'num' | 'ident' | 'op' | 'lparen' | 'rparen' | 'end';
  readonly text: string;
  readonly pos: number;
}

/** Longest operators first so `<=` is not read as `<` then `=`. */
const OPERATORS = ['&&', '||', '<=', '>=', '==', '!=', '=', '<', '>', '+', '-', '*', '/', '%', '!'];
const WORD_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!' };
/** Bounds the work a hostile filter can cause (the expression is evaluated once per grid point). */
const MAX_LENGTH = 500;
const MAX_DEPTH = 50;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
      if (!m) throw new InputError(`where: bad number at position ${i + 1} in "${src}"`, 'where');
      tokens.push({ type: 'num', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      const word = m[0];
      const op = WORD_OPERATORS[word.toLowerCase()];
      tokens.push(op ? { type: 'op', text: op, pos: i } : { type: 'ident', text: word, pos: i });
      i += word.length;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ type: c === '(' ? 'lparen' : 'rparen', text: c, pos: i });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op)
      throw new InputError(`where: unexpected character "${c}" at position ${i + 1} in "${src}"`, 'where');
    // A single `=` reads as equality: researchers type `short=true` as often as `short==true`.
    tokens.push({ type: 'op', text: op === '=' ? '==' : op, pos: i });
    i += op.length;
  }
  tokens.push({ type: 'end', text: '', pos: src.length });
  return tokens;
}

const PRECEDENCE: ReadonlyArray<readonly BinaryOp[]> = [
  ['||'],
  ['&&'],
  ['==', '!='],
  ['<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/', '%'],
];

/** Parses a `--where` expression; throws InputError naming the position of the problem. */
export function parseWhere(src: string): WhereExpr {
  if (src.trim() === '') throw new InputError('where: the expression is empty', 'where');
  if (src.length > MAX_LENGTH) {
    throw new InputError(`where: the expression is longer than ${MAX_LENGTH} characters`, 'where');
  }
  const tokens = tokenize(src);
  let p = 0;
  const peek = (): Token => tokens[p];
  const fail = (t: Token, what: string): never => {
    throw new InputError(
      `where: ${what} at position ${t.pos + 1} in "${src}"${t.type === 'end' ? ' (unexpected end)' : ` (found "${t.text}")`}`,
      'where',
    );
  };

  const parseLevel = (level: number, depth: number): WhereExpr => {
    if (depth > MAX_DEPTH) fail(peek(), 'expression nested too deeply');
    if (level === PRECEDENCE.length) return parseUnary(depth);
    let left = parseLevel(level + 1, depth + 1);
    for (;;) {
      const t = peek();
      if (t.type !== 'op' || !PRECEDENCE[level].includes(t.text as BinaryOp)) return left;
      p++;
      const right = parseLevel(level + 1, depth + 1);
      left = { kind: 'binary', op: t.text as BinaryOp, left, right };
    }
  };
  const parseUnary = (depth: number): WhereExpr => {
    if (depth > MAX_DEPTH) fail(peek(), 'expression nested too deeply');
    const t = peek();
    if (t.type === 'op' && (t.text === '!' || t.text === '-')) {
      p++;
      return { kind: 'unary', op: t.text, arg: parseUnary(depth + 1) };
    }
    if (t.type === 'num') {
      p++;
      const value = Number(t.text);
      if (!Number.isFinite(value)) fail(t, 'number out of range');
      return { kind: 'num', value };
    }
    if (t.type === 'ident') {
      p++;
      const lower = t.text.toLowerCase();
      if (lower === 'true' || lower === 'false') return { kind: 'bool', value: lower === 'true' };
      return { kind: 'ident', name: t.text };
    }
    if (t.type === 'lparen') {
      p++;
      const inner = parseLevel(0, depth + 1);
      if (peek().type !== 'rparen') fail(peek(), 'expected ")"');
      p++;
      return inner;
    }
    return fail(t, 'expected a number, a parameter name or "("');
  };

  const expr = parseLevel(0, 0);
  if (peek().type !== 'end') fail(peek(), 'expected an operator or the end of the expression');
  return expr;
}

/** Names of the parameters an expression refers to (to reject unknown names before expanding). */
export function whereIdentifiers(expr: WhereExpr): Set<string> {
  const out = new Set<string>();
  const walk = (e: WhereExpr): void => {
    if (e.kind === 'ident') out.add(e.name);
    else if (e.kind === 'unary') walk(e.arg);
    else if (e.kind === 'binary') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(expr);
  return out;
}

function num(v: Value): number {
  if (typeof v === 'string')
    throw new InputError(`where: "${v}" is text; text parameters only compare with == and !=`, 'where');
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}
const truthy = (v: Value): boolean => (typeof v === 'boolean' ? v : num(v) !== 0);
const same = (a: Value, b: Value): boolean =>
  typeof a === 'string' || typeof b === 'string' ? a === b : num(a) === num(b);

/** Evaluates an expression against one parameter set; unknown names throw InputError. */
export function evaluateWhere(expr: WhereExpr, params: Readonly<Record<string, Value>>): Value {
  switch (expr.kind) {
    case 'num':
    case 'bool':
      return expr.value;
    case 'ident': {
      if (!Object.hasOwn(params, expr.name)) {
        throw new InputError(
          `where: unknown parameter "${expr.name}" (grid parameters: ${Object.keys(params).join(', ')})`,
          'where',
        );
      }
      return params[expr.name];
    }
    case 'unary': {
      const v = evaluateWhere(expr.arg, params);
      return expr.op === '!' ? !truthy(v) : -num(v);
    }
    case 'binary': {
      if (expr.op === '&&')
        return truthy(evaluateWhere(expr.left, params)) && truthy(evaluateWhere(expr.right, params));
      if (expr.op === '||')
        return truthy(evaluateWhere(expr.left, params)) || truthy(evaluateWhere(expr.right, params));
      const a = evaluateWhere(expr.left, params);
      const b = evaluateWhere(expr.right, params);
      switch (expr.op) {
        case '==':
          return same(a, b);
        case '!=':
          return !same(a, b);
        case '<':
          return num(a) < num(b);
        case '<=':
          return num(a) <= num(b);
        case '>':
          return num(a) > num(b);
        case '>=':
          return num(a) >= num(b);
        case '+':
          return num(a) + num(b);
        case '-':
          return num(a) - num(b);
        case '*':
          return num(a) * num(b);
        case '/':
          return num(a) / num(b);
        case '%':
          return num(a) % num(b);
      }
    }
  }
}
