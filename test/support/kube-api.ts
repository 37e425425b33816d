import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parse as parseYaml } from 'yaml';

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string; 'certificate-authority': string } }>;
  users: Array<{ user: { token: string } }>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; annotations?: Record<string, string> };
  spec?: any;
}

export interface KubeResponse {
  status: number;
  body: any;
}

/**
 * Where the API serves a namespaced kind: core kinds under /api/v1, the rest
 * under /apis/<group>/<version>; the resource is the kind's lower-case plural
 * (NetworkPolicy → networkpolicies, Ingress → ingresses; an `s` added for every other kind the chart makes).
 */
function collectionPath(object: Pick<KubeObject, 'apiVersion' | 'kind'>, namespace: string): string {
  const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const kind = object.kind.toLowerCase();
  const plural = kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : kind.endsWith('s') ? `${kind}es` : `${kind}s`;
  return `${base}/namespaces/${namespace}/${plural}`;
}

/** The Kubernetes API server of a kubeconfig (the test cluster's: token auth, its own CA). */
export class KubeApi {
  private readonly server: URL;
  private readonly ca: Buffer;
  private readonly token: string;

  constructor(kubeconfigPath: string) {
    const config = parseYaml(readFileSync(kubeconfigPath, 'utf8')) as Kubeconfig;
    this.server = new URL(config.clusters[0]!.cluster.server);
    this.ca = readFileSync(config.clusters[0]!.cluster['certificate-authority']);
    this.token = config.users[0]!.user.token;
  }

  /** The object as the API server stores it, or its 404. */
  get(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, namespace: string): Promise<KubeResponse> {
    return this.send('GET', `${collectionPath(object, namespace)}/${object.metadata.name}`);
  }

  /** Creates the object with dryRun=All: validated and admitted by the API server, not stored. */
  createDryRun(object: KubeObject, namespace: string): Promise<KubeResponse> {
    return this.send('POST', `${collectionPath(object, namespace)}?dryRun=All`, object);
  }

  /** Objects of a kind matching a label selector, e.g. `app.kubernetes.io/component=load`. */
  async list(kind: Pick<KubeObject, 'apiVersion' | 'kind'>, namespace: string, labelSelector: string): Promise<any[]> {
    const response = await this.send('GET', `${collectionPath(kind, namespace)}?labelSelector=${encodeURIComponent(labelSelector)}`);
    if (response.status !== 200) throw new Error(`listing ${kind.kind}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.items as any[];
  }

  /** A JSON merge patch of the object, or of its subresource (`scale`). */
  async patch(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, namespace: string, patch: unknown, subresource = ''): Promise<void> {
    const path = `${collectionPath(object, namespace)}/${object.metadata.name}${subresource ? `/${subresource}` : ''}`;
    const response = await this.send('PATCH', path, patch, 'application/merge-patch+json');
    if (response.status !== 200)
      throw new Error(`patching ${object.kind}/${object.metadata.name}: ${response.status} ${JSON.stringify(response.body)}`);
  }

  /** Deletes the object; gracePeriodSeconds 0 is `kubectl delete --grace-period=0 --force`. */
  async delete(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, namespace: string, gracePeriodSeconds?: number): Promise<void> {
    const options = gracePeriodSeconds === undefined ? undefined : { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds };
    const response = await this.send('DELETE', `${collectionPath(object, namespace)}/${object.metadata.name}`, options);
    if (response.status !== 200 && response.status !== 202) throw new Error(`deleting ${object.kind}/${object.metadata.name}: ${response.status}`);
  }

  private send(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.server.hostname,
          port: this.server.port,
          path,
          method,
          ca: this.ca,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': payload.length }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
