/**
 * What each service of the test program (index.ts) is: the entry of `services:list` that names it, and its own rules and
 * dashboards.
 */
import type { Dashboard, RuleGroup } from "../../../components/serviceMonitoring";

/** One service of `services:list`. */
export interface ServiceEntry {
    /** Names its components, its release and so its Service: the Prometheus job it is scraped as. */
    readonly name: string;
    /** Its namespace. */
    readonly namespace: string;
    /**
     * Create the namespace. False: it exists already (a platform team's), or an earlier service of the list creates it.
     * @default true
     */
    readonly createNamespace?: boolean;
    /** The image it runs, by digest. */
    readonly image: string;
}

/** The service's own alert and recording rules: its Prometheus job, by name. */
export function serviceRules(name: string): RuleGroup[] {
    return [{
        name: `${name}.rules`,
        rules: [
            { record: "service:up:sum", expr: `sum(up{job="${name}"})`, labels: { service: name } },
            { alert: "ServiceTargetDown", expr: `up{job="${name}"} == 0`, for: "5m", labels: { severity: "warning", service: name } },
        ],
    }];
}

/** The service's own dashboard: uid and title after it (Grafana's uids are one namespace for every service). */
export function serviceDashboards(name: string): Dashboard[] {
    const uid = `${name}-overview`;
    return [{
        uid, title: `${name} overview`,
        json: { uid, title: `${name} overview`, panels: [{ type: "timeseries", title: "up", targets: [{ expr: `up{job="${name}"}` }] }] },
    }];
}
