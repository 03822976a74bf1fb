/**
 * The dashboards of the hello service, built with the Grafana foundation SDK, as the program ships them: one
 * ConfigMap each for the Grafana sidecar, in the folder {@link DASHBOARD_FOLDER}.
 */
import { DEFAULT_SLO, SloSettings } from "../slo";
import { overviewDashboard } from "./overview";
import { sloDashboard } from "./slo";

/** The Grafana folder of the service's dashboards (the sidecar's `grafana_folder` annotation). */
export const DASHBOARD_FOLDER = "hello";

/** One dashboard, ready to ship. */
export interface DashboardFile {
    /** Stable Grafana uid. */
    readonly uid: string;
    readonly title: string;
    /** File name for the sidecar and for review: `<uid>.json`. */
    readonly fileName: string;
    /** The dashboard JSON model. */
    readonly json: object;
}

/** Options of {@link dashboards}. */
export interface DashboardsOptions {
    /**
     * The stack's service level objectives; the SLO dashboard reports over their window. (The objectives
     * themselves are read from Prometheus, from the series the alerts use.)
     * @default DEFAULT_SLO
     */
    readonly slo?: SloSettings;
}

/** The overview and SLO dashboards. */
export function dashboards(options: DashboardsOptions = {}): DashboardFile[] {
    return [overviewDashboard(), sloDashboard(options.slo ?? DEFAULT_SLO)].map((built) => {
        if (!built.uid) throw new Error(`dashboard "${built.title}" has no uid`);
        // Plain JSON data: the SDK's objects carry helper functions that JSON.stringify drops anyway.
        const json = JSON.parse(JSON.stringify(built)) as object;
        return { uid: built.uid, title: built.title ?? built.uid, fileName: `${built.uid}.json`, json };
    });
}
