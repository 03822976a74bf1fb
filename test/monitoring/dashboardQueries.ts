/** The queries inside the dashboards' JSON models, and Grafana's template variables substituted as Grafana would. */
import type { DashboardFile } from "../../monitoring/dashboards";

/** One target of one panel. */
export interface PanelQuery {
    readonly dashboard: string;
    readonly panel: string;
    readonly refId: string;
    readonly expr: string;
}

interface PanelJson {
    readonly title?: string;
    readonly type?: string;
    readonly targets?: readonly { readonly refId?: string; readonly expr?: string }[];
    readonly panels?: readonly PanelJson[];
}

/** Every panel of a dashboard, rows' nested panels included (rows themselves excluded). */
export function panelsOf(d: DashboardFile): PanelJson[] {
    const walk = (panels: readonly PanelJson[] = []): PanelJson[] =>
        panels.flatMap((p) => (p.type === "row" ? walk(p.panels) : [p, ...walk(p.panels)]));
    return walk((d.json as { panels?: PanelJson[] }).panels);
}

/** Every panel target's PromQL, with the panel it belongs to. */
export function panelQueries(d: DashboardFile): PanelQuery[] {
    return panelsOf(d).flatMap((p) =>
        (p.targets ?? []).map((t) => ({ dashboard: d.title, panel: p.title ?? "(untitled)", refId: t.refId ?? "?", expr: t.expr ?? "" })),
    );
}

/** The template variables of a dashboard. */
export function variablesOf(d: DashboardFile): { name: string; type: string; query?: unknown; datasource?: unknown }[] {
    return ((d.json as { templating?: { list?: [] } }).templating?.list ?? []) as { name: string; type: string }[];
}

/**
 * `expr` with Grafana's variables (`$name`, `${name}`, `${name:fmt}`, `[[name]]`) replaced by `values`; a variable
 * without a value throws, so a new variable cannot slip through unchecked.
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
    return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
        const name = (a ?? b ?? c)!;
        const value = values[name];
        if (value === undefined) throw new Error(`no value for the variable ${whole} in: ${expr}`);
        return value;
    });
}

/**
 * A `label_values(selector, label)` variable query as PromQL listing the label's values:
 * `count by (label) (selector)`.
 */
export function labelValuesAsPromQL(query: string): { promql: string; label: string } {
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
    if (!m) throw new Error(`not a label_values() query: ${query}`);
    return { promql: `count by (${m[2]}) (${m[1]})`, label: m[2] };
}
