/**
 * The monitoring content of the hello service, as the program ships it: Prometheus rule groups for a
 * PrometheusRule, and Grafana dashboards for the sidecar. See monitoring/README.md.
 */
export { ruleGroups, shippedRuleGroups, ruleFiles, toRuleFile } from "./ruleGroups";
export type { Rule, RuleGroup, RuleGroupsOptions } from "./ruleGroups";
export {
    BURN_RATE_FACTORS,
    DEFAULT_SLO,
    LATENCY_BUCKET_BOUNDARIES,
    MIN_OBJECTIVE,
    SERVICE_JOB,
    isLatencyBucketBoundary,
    resolveSloSettings,
    sloObjectivesGroup,
    validateSloSettings,
} from "./slo";
export type { LatencyBucketBoundary, SloSettings, SloSettingsInput } from "./slo";
export { DASHBOARD_FOLDER, dashboards } from "./dashboards";
export type { DashboardFile, DashboardsOptions } from "./dashboards";
