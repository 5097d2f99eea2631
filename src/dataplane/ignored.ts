// BGPConfiguration ignoredInterfaces: Calico's glob patterns ("eth*", "vxlan?") naming interfaces
// that address detection and the dataplane leave alone (confd renders them as `-"pattern"` in
// BIRD's direct and kernel protocols). Whole-name matches; no native code here, so start-up can
// use it without loading netlink.

/** A glob as a whole-name regular expression: `*` any run, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** A predicate for "this interface is ignored"; always false for no patterns. */
export function ignoredInterfaces(globs: readonly string[] | undefined): (name: string) => boolean {
  if (globs === undefined || globs.length === 0) return () => false;
  const res = globs.map(globToRegExp);
  return (name) => res.some((r) => r.test(name));
}
