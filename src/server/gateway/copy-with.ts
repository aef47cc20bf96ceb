/**
 * `{ ...source, ...extra }` for objects made on every call of the relay's path.
 *
 * On Node 20 (V8 11.3), an object made by spreading another one and then given a property the
 * source lacks gets a hidden class (map) of its own: the transition is not cached. Those maps
 * live in old space until the next full collection and hold young objects, which every young
 * collection then promotes (`--log-maps` showed one new map per call at each such site). A copy
 * made key by key into an empty object goes through the cached transitions of object literals.
 */
export function copyWith<Source extends object, Extra extends object>(source: Source, extra: Extra): Source & Extra {
  const copy: Record<string, unknown> = {};
  put(copy, source as Record<string, unknown>);
  put(copy, extra as Record<string, unknown>);
  return copy as Source & Extra;
}

function put(copy: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const name of Object.keys(from)) {
    // An own `__proto__` (JSON can have one) stays a field, as it does in a spread.
    if (name === '__proto__') {
      Object.defineProperty(copy, name, { value: from[name], enumerable: true, writable: true, configurable: true });
    } else {
      copy[name] = from[name];
    }
  }
}
