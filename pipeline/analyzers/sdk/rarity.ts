/**
 * Environment rarity: how common a parent -> child image pair, or an image -> destination, is across the
 * whole graph, so analyzers can say "rare parent of cmd.exe" instead of hard-coding what is normal.
 *
 * - Parent/child pairs come from one aggregate over every PARENT_OF edge (file names of both images),
 *   cached for `ttlMs` and computed at most once at a time. The aggregate is linear in the number of
 *   process creations; with the default TTL it runs at most every few minutes, whatever the update rate.
 * - Image -> destination counts start from the destination's IpAddress node (an index seek on its key)
 *   and are batched across analyzers within one tick, so they cost in proportion to the destination's
 *   degree, not the graph.
 *
 * Counts include the current update (analyzers run after the merge): a pair seen for the first time has
 * count 1.
 */
import DataLoader from 'dataloader';
import type { GraphGateway } from '../../../lib/neo4j';
import { imageName } from './text';

export interface PairStats {
  /** Child processes with this parent image name and child image name. */
  readonly count: number;
  /** Hosts they ran on. */
  readonly hosts: number;
}

export interface Rarity {
  /** Processes named `childImage` started by processes named `parentImage` (file names; paths accepted). */
  parentChild(parentImage: string, childImage: string): Promise<PairStats>;
  /** Processes named `image` that connected to the IP address node `ipKey`, and the hosts they ran on. */
  imageToIp(image: string, ipKey: string): Promise<PairStats>;
}

/** The one gateway method analyzers use (read queries only). */
export type QueryRunner = Pick<GraphGateway, 'query'>;

const SEP = '\\';

/** Cypher of the parent/child profile (file names, lower-case; POSIX separators folded). */
export const PARENT_CHILD_PROFILE = `MATCH (p:Process)-[:PARENT_OF]->(c:Process)
WHERE p.image IS NOT NULL AND c.image IS NOT NULL
WITH last(split(replace(toLower(p.image), '/', $sep), $sep)) AS parent,
     last(split(replace(toLower(c.image), '/', $sep), $sep)) AS child, c
RETURN parent, child, count(c) AS count, count(DISTINCT c.host) AS hosts`;

export const IMAGE_TO_IP = `UNWIND $qs AS q
MATCH (ip:IpAddress {key: q.ip})<-[:ENDPOINT_OF]-(:NetworkEndpoint)<-[:CONNECTED_TO]-(p:Process)
WHERE p.image IS NOT NULL AND last(split(replace(toLower(p.image), '/', $sep), $sep)) = q.image
RETURN q.image AS image, q.ip AS ip, count(DISTINCT p) AS count, count(DISTINCT p.host) AS hosts`;

export interface GraphRarityOptions {
  /** How long the parent/child profile is reused (ms). 0: recomputed for every run. */
  ttlMs?: number;
}

export class GraphRarity implements Rarity {
  private profile: Map<string, PairStats> | undefined;
  private profileAt = 0;
  private pending: Promise<Map<string, PairStats>> | undefined;
  private readonly ttlMs: number;
  private readonly ipLoader: DataLoader<string, PairStats>;

  constructor(
    private readonly gateway: QueryRunner,
    opts: GraphRarityOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 5 * 60_000;
    this.ipLoader = new DataLoader<string, PairStats>((ks) => this.loadIps(ks), {
      cache: false,
      maxBatchSize: 500,
    });
  }

  /** Forget the cached profile (tests; after a bulk load). */
  invalidate(): void {
    this.profile = undefined;
  }

  async parentChild(parentImage: string, childImage: string): Promise<PairStats> {
    const profile = await this.getProfile();
    return profile.get(`${imageName(parentImage)}|${imageName(childImage)}`) ?? { count: 0, hosts: 0 };
  }

  async imageToIp(image: string, ipKey: string): Promise<PairStats> {
    return this.ipLoader.load(JSON.stringify([imageName(image), ipKey]));
  }

  private async getProfile(): Promise<Map<string, PairStats>> {
    if (this.profile && Date.now() - this.profileAt < this.ttlMs) return this.profile;
    if (!this.pending) {
      this.pending = (async () => {
        try {
          const rows = await this.gateway.query<{
            parent: string;
            child: string;
            count: number;
            hosts: number;
          }>('analyzer.rarity.parent-child', PARENT_CHILD_PROFILE, { sep: SEP });
          const m = new Map<string, PairStats>();
          for (const r of rows)
            m.set(`${r.parent}|${r.child}`, { count: Number(r.count), hosts: Number(r.hosts) });
          this.profile = m;
          this.profileAt = Date.now();
          return m;
        } finally {
          this.pending = undefined;
        }
      })();
    }
    return this.pending;
  }

  private async loadIps(ks: readonly string[]): Promise<PairStats[]> {
    const qs = ks.map((k) => {
      const [image, ip] = JSON.parse(k) as [string, string];
      return { image, ip };
    });
    const rows = await this.gateway.query<{ image: string; ip: string; count: number; hosts: number }>(
      'analyzer.rarity.image-ip',
      IMAGE_TO_IP,
      { qs, sep: SEP },
    );
    const m = new Map(
      rows.map((r) => [JSON.stringify([r.image, r.ip]), { count: Number(r.count), hosts: Number(r.hosts) }]),
    );
    return ks.map((k) => m.get(k) ?? { count: 0, hosts: 0 });
  }
}

/** Rarity from fixed tables (unit tests, offline tools). */
export class StaticRarity implements Rarity {
  constructor(
    private readonly pairs: Record<string, PairStats> = {},
    private readonly ips: Record<string, PairStats> = {},
  ) {}

  async parentChild(parentImage: string, childImage: string): Promise<PairStats> {
    return this.pairs[`${imageName(parentImage)}|${imageName(childImage)}`] ?? { count: 0, hosts: 0 };
  }

  async imageToIp(image: string, ipKey: string): Promise<PairStats> {
    return this.ips[`${imageName(image)}|${ipKey}`] ?? { count: 0, hosts: 0 };
  }
}
