import type { Logger } from '../../log/logger.ts';
import type { TopicPartition } from '../../kafka/records.ts';
import { isRetriable } from '../../kafka/errors.ts';
import { backoffMs, type RetryPolicy } from '../../retry/retry.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MembershipHooks {
  /** The processor's work on a new assignment (read positions, seek); retried while it fails transiently. */
  onAssigned(owned: readonly TopicPartition[]): Promise<void>;
  /** The assignment work failed transiently and is being retried (the stage is not ready meanwhile). */
  onAssignmentFault(error: unknown, attempt: number, waitMs: number): void;
  /** The assignment work is done (or superseded by a newer join). */
  onAssignmentDone(): void;
  /** The assignment work failed in a way retrying cannot fix: the stage must stop. */
  onAssignmentFailed(error: unknown): void;
}

export interface GroupMembershipOptions {
  hooks: MembershipHooks;
  /** Backoff between attempts of the assignment's work. */
  policy: RetryPolicy;
  logger: Logger;
  /** Waits out a backoff (tests hand in one that does not). */
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * Which partitions this member owns, in which generation of the group. Every
 * join starts a new generation; so does learning that the group has moved on
 * (a heartbeat refused). Work begun in one generation checks `owns` before
 * each step, so that nothing is done for a partition another member may own.
 *
 * The processor's work on an assignment runs once per join, retried with
 * backoff while it fails transiently (MySQL down during a rebalance), and
 * abandoned when a newer join supersedes it; batches wait for it, and its
 * failures never go unhandled.
 */
export class GroupMembership {
  private readonly hooks: MembershipHooks;
  private readonly policy: RetryPolicy;
  private readonly logger: Logger;
  private readonly wait: (ms: number) => Promise<unknown>;
  private generationNumber = 0;
  private owned = new Set<string>();
  /** The partitions of the last join (what `owned` holds, until the member is taken for lost). */
  private assigned: readonly TopicPartition[] = [];
  /** What the member owned when it was taken for lost, until it rejoins or a heartbeat proves it still a member. */
  private suspended: readonly TopicPartition[] | undefined;
  private assignment: Promise<void> = Promise.resolve();

  constructor({ hooks, policy, logger, wait = sleep }: GroupMembershipOptions) {
    this.hooks = hooks;
    this.policy = policy;
    this.logger = logger;
    this.wait = wait;
  }

  get generation(): number {
    return this.generationNumber;
  }

  /** The member joined with `owned`; returns the new generation. */
  joined(owned: readonly TopicPartition[]): number {
    const generation = ++this.generationNumber;
    this.suspended = undefined;
    this.assigned = owned;
    this.owned = new Set(owned.map(keyOf));
    this.assignment = this.assign(owned, generation);
    return generation;
  }

  /** The group moved on without this member (a heartbeat was refused): it owns nothing until it rejoins. */
  lost(): void {
    this.generationNumber++;
    if (this.owned.size > 0) this.suspended = this.assigned;
    this.owned = new Set();
  }

  /**
   * The coordinator accepted a heartbeat of the client's generation after
   * this member was taken for lost (a silence longer than the session, while
   * a coordinator failed over) and before any rejoin: the group did not move
   * on, so the member owns its partitions again, in a new generation (the
   * batches given up stay given up) and after the assignment's work again.
   * Without this, a member taken for lost that the group kept would skip
   * every batch until a rebalance that may never come. Whether it was.
   */
  confirmed(): boolean {
    if (this.suspended === undefined) return false;
    const owned = this.suspended;
    this.suspended = undefined;
    const generation = ++this.generationNumber;
    this.owned = new Set(owned.map(keyOf));
    this.assignment = this.assign(owned, generation);
    return true;
  }

  owns(partition: TopicPartition, generation: number): boolean {
    return generation === this.generationNumber && this.owned.has(keyOf(partition));
  }

  /** Resolves once the current assignment's work is done (or superseded); never rejects. */
  ready(): Promise<void> {
    return this.assignment;
  }

  private async assign(owned: readonly TopicPartition[], generation: number): Promise<void> {
    for (let attempt = 0; generation === this.generationNumber; attempt++) {
      try {
        await this.hooks.onAssigned(owned);
        this.hooks.onAssignmentDone();
        return;
      } catch (error) {
        if (!isRetriable(error)) {
          this.hooks.onAssignmentFailed(error);
          return;
        }
        const waitMs = backoffMs(attempt, this.policy);
        this.logger.warn({ attempt, waitMs, err: error }, 'work on the new assignment failed; retrying');
        this.hooks.onAssignmentFault(error, attempt, waitMs);
        await this.wait(waitMs);
      }
    }
    this.hooks.onAssignmentDone();
  }
}

function keyOf({ topic, partition }: TopicPartition): string {
  return `${topic}:${partition}`;
}
