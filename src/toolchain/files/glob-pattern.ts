/**
 * A small glob matcher for `files.search`'s filter and the data tools' file globs (Node 20 has no
 * `path.matchesGlob`): `*` matches within one path segment, `**` across segments, `?` one
 * character, and `{a,b}` either alternative. A pattern without `/` is matched against the file
 * name alone, so `*.ts` finds TypeScript files at any depth.
 *
 * Globs come from the model and are matched in the calling thread, so matching must not
 * backtrack: a glob compiled to a regular expression, such as `*a*a*a*a*a*b` against a 200-letter
 * file name, ran for minutes and stalled the host. The glob is compiled to a small automaton
 * instead, and a path is matched in one pass over it: time grows with the path's length times
 * the glob's, whatever the pattern.
 *
 * That product is still large for a long glob over a large tree: a 10,000-character glob cost
 * 43 ms a file, minutes over a checkout. So a glob is at most {@link maxGlobLength} characters,
 * and one matcher does at most {@link maxGlobMatchSteps} steps (one state advanced by one
 * character) over all the paths it is given; past that it throws, and the tool says so.
 */
import { WorkspacePathError } from './workspace-path.js';

/** Longest glob taken, in characters (the longest workspace path). */
export const maxGlobLength = 1_024;

/** Most automaton steps one matcher takes over all its paths: about a second here. */
export const maxGlobMatchSteps = 100_000_000;

/** A state of the automaton: consume one character, branch without consuming, or accept. */
type State =
  | { kind: 'character'; accepts: (character: string) => boolean; next: number }
  | { kind: 'branch'; next: number[] }
  | { kind: 'match' };

/** A parsed glob: a sequence of pieces. */
type Piece =
  | { kind: 'literal'; character: string }
  | { kind: 'one' }
  | { kind: 'segment' }
  | { kind: 'any' }
  | { kind: 'directories' }
  | { kind: 'either'; alternatives: Piece[][] };

/** Compile `glob` into a predicate over workspace-relative paths with `/` separators. */
/**
 * Compile `glob` into a predicate over workspace-relative paths with `/` separators.
 * @throws WorkspacePathError when the glob is longer than {@link maxGlobLength}, and from the
 * predicate once its paths have cost {@link maxGlobMatchSteps} steps in all.
 */
export function globMatcher(glob: string): (relativePath: string) => boolean {
  if (glob.length > maxGlobLength) {
    throw new WorkspacePathError(
      `the glob "${glob.slice(0, 80)}…" is ${glob.length} characters long; a glob may have at most ${maxGlobLength}. Use a shorter one.`,
    );
  }
  const budget = { steps: 0, glob };
  const matches = compile(glob, budget);
  if (!glob.includes('/')) return (relativePath) => matches(relativePath.slice(relativePath.lastIndexOf('/') + 1));
  return glob.startsWith('./') ? compile(glob.slice(2), budget) : matches;
}

function compile(glob: string, budget: { steps: number; glob: string }): (text: string) => boolean {
  const states: State[] = [{ kind: 'match' }];
  const start = compileSequence(parse(glob), 0, states);
  return (text) => {
    let current = closure([start], states);
    // UTF-16 units, as the glob's own characters are read.
    for (let position = 0; position < text.length; position++) {
      budget.steps += current.length;
      if (budget.steps > maxGlobMatchSteps) {
        const shown = budget.glob.length > 80 ? `${budget.glob.slice(0, 80)}…` : budget.glob;
        throw new WorkspacePathError(
          `the glob "${shown}" is too costly to match against this many files (over ${maxGlobMatchSteps} steps); use fewer * and {…} alternatives, or a narrower path.`,
        );
      }
      const character = text[position]!;
      const next: number[] = [];
      for (const index of current) {
        const state = states[index]!;
        if (state.kind === 'character' && state.accepts(character)) next.push(state.next);
      }
      if (next.length === 0) return false;
      current = closure(next, states);
    }
    return current.some((index) => states[index]!.kind === 'match');
  };
}

/** The states reachable from `from` without consuming a character (each once). */
function closure(from: number[], states: State[]): number[] {
  const seen = new Set<number>();
  const pending = [...from];
  for (let index = pending.pop(); index !== undefined; index = pending.pop()) {
    if (seen.has(index)) continue;
    seen.add(index);
    const state = states[index]!;
    if (state.kind === 'branch') pending.push(...state.next);
  }
  return [...seen];
}

/** Add the states of `pieces` to `states`, leading to `next`; returns the first one. */
function compileSequence(pieces: Piece[], next: number, states: State[]): number {
  let current = next;
  for (let index = pieces.length - 1; index >= 0; index--) current = compilePiece(pieces[index]!, current, states);
  return current;
}

function compilePiece(piece: Piece, next: number, states: State[]): number {
  const add = (state: State) => states.push(state) - 1;
  switch (piece.kind) {
    case 'literal':
      return add({ kind: 'character', accepts: (character) => character === piece.character, next });
    case 'one':
      return add({ kind: 'character', accepts: (character) => character !== '/', next });
    case 'segment':
    case 'any': {
      // A loop: the branch either consumes one more character and comes back, or goes on.
      const branch: State = { kind: 'branch', next: [] };
      const branchIndex = add(branch);
      const accepts = piece.kind === 'segment' ? (character: string) => character !== '/' : () => true;
      branch.next = [add({ kind: 'character', accepts, next: branchIndex }), next];
      return branchIndex;
    }
    case 'directories': {
      // `**/`: nothing, or a loop over any characters that can only leave through a `/`.
      const loop: State = { kind: 'branch', next: [] };
      const loopIndex = add(loop);
      loop.next = [
        add({ kind: 'character', accepts: () => true, next: loopIndex }),
        add({ kind: 'character', accepts: (character) => character === '/', next }),
      ];
      return add({ kind: 'branch', next: [loopIndex, next] });
    }
    case 'either':
      return add({
        kind: 'branch',
        next: piece.alternatives.map((alternative) => compileSequence(alternative, next, states)),
      });
  }
}

function parse(glob: string): Piece[] {
  const pieces: Piece[] = [];
  for (let index = 0; index < glob.length; index++) {
    const character = glob[index]!;
    if (character === '*') {
      if (glob[index + 1] === '*') {
        index++;
        if (glob[index + 1] === '/') {
          index++;
          pieces.push({ kind: 'directories' });
        } else pieces.push({ kind: 'any' });
      } else pieces.push({ kind: 'segment' });
    } else if (character === '?') pieces.push({ kind: 'one' });
    else if (character === '{') {
      const close = glob.indexOf('}', index);
      if (close === -1) pieces.push({ kind: 'literal', character });
      else {
        pieces.push({
          kind: 'either',
          alternatives: glob
            .slice(index + 1, close)
            .split(',')
            .map(parse),
        });
        index = close;
      }
    } else pieces.push({ kind: 'literal', character });
  }
  return pieces;
}
