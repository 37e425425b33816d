export type AclOperation = 'read' | 'write' | 'create' | 'describe' | 'describe-configs';

/** One ALLOW rule: a principal may do `operation` on a resource (a name, or every name with that prefix). */
export interface AccessRule {
  principal: string;
  resource: 'topic' | 'group' | 'transactional-id' | 'cluster';
  name: string;
  pattern: 'literal' | 'prefixed';
  operation: AclOperation;
  /** Why the role needs it (for `kelt acls` and the docs). */
  because: string;
}
