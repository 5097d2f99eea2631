// What containers/clusterrole.yaml grants, for tests that check every request Kite makes.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }

/** allowed(group, resource, verb, namespace): a ClusterRole rule, or a Role rule in that namespace, grants it. */
export function loadRbac(): (group: string, resource: string, verb: string, namespace?: string) => boolean {
  const docs = parseAllDocuments(readFileSync(new URL('../../../containers/clusterrole.yaml', import.meta.url), 'utf8'))
    .map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: Rule[] });
  const roles = docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role');
  return (group, resource, verb, namespace) =>
    roles.some((r) => (r.kind === 'ClusterRole' || r.metadata.namespace === namespace) && (r.rules ?? []).some(
      (rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource) && rule.verbs.includes(verb)));
}
