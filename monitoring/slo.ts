/**
 * Service level objectives of the hello service: the typed settings a stack chooses, their defaults and validation,
 * and the small generated rule group that carries the chosen values into Prometheus as series.
 *
 * The shipped rule files never contain an objective or a latency threshold. They read them from the series this
 * module generates (`slo:objective:ratio`, `slo:latency_threshold:seconds`), so the files that promtool tests are
 * byte for byte the files that ship, whatever a stack chooses. See monitoring/README.md, "Per-stack SLOs".
 */
import type { RuleGroup } from "./ruleGroups";

/** The job label the ServiceMonitor gives every series of the service (the Kubernetes Service name). */
export const SERVICE_JOB = "hello";

/**
 * Upper bounds of the service's `http_request_duration_seconds` buckets (client_golang's `prometheus.DefBuckets`).
 * A latency threshold must be one of them: a histogram can only count requests below a bucket boundary exactly.
 */
export const LATENCY_BUCKET_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** One of {@link LATENCY_BUCKET_BOUNDARIES}. */
export type LatencyBucketBoundary = (typeof LATENCY_BUCKET_BOUNDARIES)[number];

/**
 * The burn-rate factors of the multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs",
 * table 5-8). They assume a 30-day window: 14.4x spends 2% of a 30-day budget in one hour.
 */
export const BURN_RATE_FACTORS = { page: 14.4, pageSlow: 6, ticket: 3, ticketSlow: 1 } as const;

/**
 * Below this objective a 14.4x burn rate would need more than 100% failing requests, so the page alert could never
 * fire: 1 - 1/14.4.
 */
export const MIN_OBJECTIVE = 1 - 1 / BURN_RATE_FACTORS.page;

/** Whether `ratio` is an objective the alerts can page on: above {@link MIN_OBJECTIVE} and below 1. */
export function isValidObjective(ratio: unknown): ratio is number {
    return typeof ratio === "number" && Number.isFinite(ratio) && ratio > MIN_OBJECTIVE && ratio < 1;
}

/** The service level objectives of one stack. */
export interface SloSettings {
    /** Availability: requests answered without a 5xx. */
    readonly availability: {
        /**
         * Share of requests, over {@link SloSettings.window}, that must not fail with a 5xx.
         * Above {@link MIN_OBJECTIVE} (about 0.9306) and below 1.
         * @default 0.999
         */
        readonly objective: number;
    };
    /** Latency: requests answered within a threshold. */
    readonly latency: {
        /**
         * The threshold in seconds; one of {@link LATENCY_BUCKET_BOUNDARIES}.
         * @default 0.25
         */
        readonly thresholdSeconds: number;
        /**
         * Share of requests, over {@link SloSettings.window}, that must be answered within `thresholdSeconds`.
         * Above {@link MIN_OBJECTIVE} (about 0.9306) and below 1.
         * @default 0.99
         */
        readonly objective: number;
    };
    /**
     * The SLO window, in whole days (`"30d"`). The dashboards report availability and the remaining error budget
     * over it; the burn-rate factors of the alerts are the workbook's, which assume 30 days.
     * @default "30d"
     */
    readonly window: string;
}

/** What a stack may set: any field of {@link SloSettings}; the rest take the defaults. */
export interface SloSettingsInput {
    readonly availability?: { readonly objective?: number };
    readonly latency?: { readonly thresholdSeconds?: number; readonly objective?: number };
    readonly window?: string;
}

/** The defaults, in one place. */
export const DEFAULT_SLO: SloSettings = {
    availability: { objective: 0.999 },
    latency: { thresholdSeconds: 0.25, objective: 0.99 },
    window: "30d",
};

/**
 * Every problem with `slo`, each naming the setting (prefixed with `configKey`, e.g. `hello:slo`), the bad value and
 * what is allowed. Empty when the settings are valid.
 */
export function validateSloSettings(slo: SloSettings, configKey = "slo"): string[] {
    const problems: string[] = [];
    const objective = (key: string, value: unknown) => {
        if (!isValidObjective(value)) {
            problems.push(
                `\`${configKey}.${key}\` is ${JSON.stringify(value)}; it must be a ratio above ${MIN_OBJECTIVE.toFixed(4)} ` +
                    `and below 1 (e.g. 0.999), because below that a ${BURN_RATE_FACTORS.page}x burn rate cannot happen ` +
                    `and the page alert could never fire`,
            );
        }
    };
    objective("availability.objective", slo.availability?.objective);
    objective("latency.objective", slo.latency?.objective);
    const threshold = slo.latency?.thresholdSeconds;
    if (!isLatencyBucketBoundary(threshold)) {
        problems.push(
            `\`${configKey}.latency.thresholdSeconds\` is ${JSON.stringify(threshold)}; it must be one of the ` +
                `histogram bucket boundaries ${LATENCY_BUCKET_BOUNDARIES.join(", ")} (seconds)`,
        );
    }
    const window = slo.window;
    const days = typeof window === "string" && /^[1-9][0-9]*d$/.test(window) ? Number(window.slice(0, -1)) : NaN;
    if (!(days >= 7 && days <= 90)) {
        problems.push(
            `\`${configKey}.window\` is ${JSON.stringify(window)}; it must be a whole number of days between 7d and 90d ` +
                `(e.g. "30d")`,
        );
    }
    return problems;
}

/** Whether `value` is one of {@link LATENCY_BUCKET_BOUNDARIES}. */
export function isLatencyBucketBoundary(value: unknown): value is LatencyBucketBoundary {
    return (LATENCY_BUCKET_BOUNDARIES as readonly unknown[]).includes(value);
}

/** `input` over {@link DEFAULT_SLO}, validated; throws one error listing every problem. */
export function resolveSloSettings(input: SloSettingsInput = {}, configKey = "slo"): SloSettings {
    const slo: SloSettings = {
        availability: { ...DEFAULT_SLO.availability, ...input.availability },
        latency: { ...DEFAULT_SLO.latency, ...input.latency },
        window: input.window ?? DEFAULT_SLO.window,
    };
    const problems = validateSloSettings(slo, configKey);
    if (problems.length > 0) {
        throw new Error(`Invalid service level objectives:\n  - ${problems.join("\n  - ")}`);
    }
    return slo;
}

/** The name of the generated group; the shipped files read its series. */
export const SLO_OBJECTIVES_GROUP = "hello.slo-objectives";

/**
 * The `le` label values a bucket boundary can carry. Prometheus 2 stores the client's text ("1"); Prometheus 3
 * normalizes classic histogram `le` values to floats ("1.0"). The generated selector carries both spellings for
 * whole numbers, so the shipped `and on (job, le)` join finds the bucket on either version.
 */
export function leLabelValues(boundary: number): string[] {
    const text = String(boundary);
    return Number.isInteger(boundary) ? [text, `${text}.0`] : [text];
}

/**
 * The rule group that turns `slo` into series: the objectives (`slo:objective:ratio{slo="availability"|"latency"}`)
 * and the latency threshold (`slo:latency_threshold:seconds`, one series per `le` spelling, used to pick the bucket).
 * Its rules are constants, so it is cheap to evaluate.
 */
export function sloObjectivesGroup(slo: SloSettings): RuleGroup {
    const problems = validateSloSettings(slo);
    if (problems.length > 0) {
        throw new Error(`Invalid service level objectives:\n  - ${problems.join("\n  - ")}`);
    }
    const threshold = slo.latency.thresholdSeconds;
    return {
        name: SLO_OBJECTIVES_GROUP,
        rules: [
            {
                record: "slo:objective:ratio",
                expr: `vector(${slo.availability.objective})`,
                labels: { job: SERVICE_JOB, slo: "availability" },
            },
            {
                record: "slo:objective:ratio",
                expr: `vector(${slo.latency.objective})`,
                labels: { job: SERVICE_JOB, slo: "latency" },
            },
            ...leLabelValues(threshold).map((le) => ({
                record: "slo:latency_threshold:seconds",
                expr: `vector(${threshold})`,
                labels: { job: SERVICE_JOB, le },
            })),
        ],
    };
}
