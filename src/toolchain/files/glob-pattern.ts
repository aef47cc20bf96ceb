/**
 * A small glob matcher for `files.search`'s filter (Node 20 has no `path.matchesGlob`): `*`
 * matches within one path segment, `**` across segments, `?` one character, and `{a,b}` either
 * alternative. A pattern without `/` is matched against the file name alone, so `*.ts` finds
 * TypeScript files at any depth.
 */

/** Compile `glob` into a predicate over workspace-relative paths with `/` separators. */
export function globMatcher(glob: string): (relativePath: string) => boolean {
  const expression = new RegExp(`^${globSource(glob)}$`);
  if (!glob.includes('/'))
    return (relativePath) => expression.test(relativePath.slice(relativePath.lastIndexOf('/') + 1));
  const anchored = glob.startsWith('./') ? new RegExp(`^${globSource(glob.slice(2))}$`) : expression;
  return (relativePath) => anchored.test(relativePath);
}

function globSource(glob: string): string {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const character = glob[index]!;
    if (character === '*') {
      if (glob[index + 1] === '*') {
        index++;
        if (glob[index + 1] === '/') {
          index++;
          source += '(?:.*/)?';
        } else source += '.*';
      } else source += '[^/]*';
    } else if (character === '?') source += '[^/]';
    else if (character === '{') {
      const close = glob.indexOf('}', index);
      if (close === -1) source += '\\{';
      else {
        const alternatives = glob.slice(index + 1, close).split(',');
        source += `(?:${alternatives.map(globSource).join('|')})`;
        index = close;
      }
    } else source += character.replace(/[.+^$(){}|[\]\\]/g, '\\$&');
  }
  return source;
}
