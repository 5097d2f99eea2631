// Kite-only divergences of the differential check that were read with the RFCs and judged right in
// Kite (docs/conformance.md says why). The check fails on any other Kite-only divergence, and on a
// Kite crash or hang: a new one is either fixed or argued here and in the docs.
export const JUDGED_RIGHT = [
  {
    cls: 'MP_REACH IPv4 next hop length 32',
    kite: /^reset 3\/9$/,
    why: 'RFC 7606 §7.11: a next hop length that does not fit the family leaves the NLRI unlocatable; session reset or AFI/SAFI disable MUST be used',
  },
];

/** The divergences (from summary.kiteOnly) that no entry above covers. */
export function unexplained(divergences, family) {
  return divergences.filter((d) => !JUDGED_RIGHT.some((j) => j.cls === family(d.cls) && j.kite.test(d.kite)));
}
