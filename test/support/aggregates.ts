import type { TestDatabase } from './stack.ts';

/** What the test knows of an event: enough to aggregate it without kelt. */
export interface AggregatedEvent {
  userId: string;
  url: string;
  ts: number;
}

interface Hourly {
  views: number;
  visitors: number;
  firstView: number;
  lastView: number;
}

interface Daily {
  activeUsers: number;
  pageviews: number;
}

export interface AggregateExpectations {
  hourly: Map<string, Hourly>;
  daily: Map<string, Daily>;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The example pipeline's aggregates (agg_pageviews_hourly per host and path
 * and hour, agg_daily_active_users per day) computed here, from the events,
 * by their event time: the independent answer the tables must equal.
 */
export function expectedAggregates(events: Iterable<AggregatedEvent>): AggregateExpectations {
  const hourly = new Map<string, Hourly & { users: Set<string> }>();
  const daily = new Map<string, Daily & { users: Set<string> }>();
  for (const event of events) {
    const url = new URL(event.url);
    const hourKey = `${Math.floor(event.ts / HOUR) * HOUR}|${url.hostname.toLowerCase()}|${url.pathname}`;
    const hour = hourly.get(hourKey) ?? { views: 0, visitors: 0, firstView: event.ts, lastView: event.ts, users: new Set<string>() };
    hour.views++;
    hour.users.add(event.userId);
    hour.firstView = Math.min(hour.firstView, event.ts);
    hour.lastView = Math.max(hour.lastView, event.ts);
    hourly.set(hourKey, hour);
    const dayKey = String(Math.floor(event.ts / DAY) * DAY);
    const day = daily.get(dayKey) ?? { activeUsers: 0, pageviews: 0, users: new Set<string>() };
    day.pageviews++;
    day.users.add(event.userId);
    daily.set(dayKey, day);
  }
  return {
    hourly: new Map([...hourly].map(([key, { users, ...hour }]) => [key, { ...hour, visitors: users.size }])),
    daily: new Map([...daily].map(([key, { users, ...day }]) => [key, { ...day, activeUsers: users.size }])),
  };
}

/** The aggregate tables as they are, in the shape of `expectedAggregates`. */
export async function aggregatesIn(db: TestDatabase): Promise<AggregateExpectations> {
  const [hourRows] = await db.pool.query('SELECT hour, url_host, url_path, views, visitors, first_view, last_view FROM agg_pageviews_hourly');
  const [dayRows] = await db.pool.query('SELECT day, active_users, pageviews FROM agg_daily_active_users');
  const ms = (value: Date) => value.getTime();
  return {
    hourly: new Map(
      (hourRows as Array<{ hour: Date; url_host: string; url_path: string; views: number; visitors: number; first_view: Date; last_view: Date }>).map(
        (row) => [
          `${ms(row.hour)}|${row.url_host}|${row.url_path}`,
          { views: Number(row.views), visitors: Number(row.visitors), firstView: ms(row.first_view), lastView: ms(row.last_view) },
        ],
      ),
    ),
    daily: new Map(
      (dayRows as Array<{ day: Date; active_users: number; pageviews: number }>).map((row) => [
        String(ms(row.day)),
        { activeUsers: Number(row.active_users), pageviews: Number(row.pageviews) },
      ]),
    ),
  };
}

/**
 * The example's aggregates as GROUP BY over fct_pageviews, the model table
 * they are declared from: what the aggregate tables must always equal
 * (groups compared by their exact bytes, as kelt groups them).
 */
export async function groupedModel(db: TestDatabase): Promise<AggregateExpectations> {
  const ms = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01', event_time) DIV 1000";
  const [hourRows] = await db.pool.query(
    `SELECT ${ms} DIV ${HOUR} * ${HOUR} AS hour_ms, url_host, url_path, COUNT(*) AS views, COUNT(DISTINCT user_id) AS visitors,
            MIN(event_time) AS first_view, MAX(event_time) AS last_view
       FROM fct_pageviews GROUP BY hour_ms, BINARY url_host, BINARY url_path`,
  );
  const [dayRows] = await db.pool.query(
    `SELECT ${ms} DIV ${DAY} * ${DAY} AS day_ms, COUNT(DISTINCT user_id) AS active_users, COUNT(*) AS pageviews FROM fct_pageviews GROUP BY day_ms`,
  );
  return {
    hourly: new Map(
      (
        hourRows as Array<{ hour_ms: number; url_host: string; url_path: string; views: number; visitors: number; first_view: Date; last_view: Date }>
      ).map((row) => [
        `${Number(row.hour_ms)}|${row.url_host}|${row.url_path}`,
        { views: Number(row.views), visitors: Number(row.visitors), firstView: row.first_view.getTime(), lastView: row.last_view.getTime() },
      ]),
    ),
    daily: new Map(
      (dayRows as Array<{ day_ms: number; active_users: number; pageviews: number }>).map((row) => [
        String(Number(row.day_ms)),
        { activeUsers: Number(row.active_users), pageviews: Number(row.pageviews) },
      ]),
    ),
  };
}

/** Aggregate rows that differ, are missing or are extra (0 when the tables are exact). */
export function aggregateMismatches(expected: AggregateExpectations, actual: AggregateExpectations): string[] {
  const differences: string[] = [];
  for (const table of ['hourly', 'daily'] as const) {
    const want = expected[table] as Map<string, object>;
    const have = actual[table] as Map<string, object>;
    for (const [key, row] of want) {
      if (JSON.stringify(have.get(key)) !== JSON.stringify(row))
        differences.push(`${table} ${key}: expected ${JSON.stringify(row)}, found ${JSON.stringify(have.get(key))}`);
    }
    for (const key of have.keys()) if (!want.has(key)) differences.push(`${table} ${key}: not expected, found ${JSON.stringify(have.get(key))}`);
  }
  return differences;
}
