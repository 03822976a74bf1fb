/**
 * The Grafana foundation SDK modules the dashboards use, typed under this project's TypeScript settings.
 *
 * The SDK publishes its modules only through package.json `exports` (`@grafana/grafana-foundation-sdk/dashboard`).
 * The project's `moduleResolution: "node"` ignores `exports`, so TypeScript cannot find those paths, while Node
 * refuses the files' real paths (`.../dist/dashboard`) because they are not exported. So the types come from the
 * real paths (type-only imports, erased at run time) and the values from the exported paths. With
 * `"paths": {"@grafana/grafana-foundation-sdk/*": ["./node_modules/@grafana/grafana-foundation-sdk/dist/*"]}` in
 * tsconfig.json this file could become plain `import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard"`.
 */
import type * as CommonModule from "@grafana/grafana-foundation-sdk/dist/common";
import type * as DashboardModule from "@grafana/grafana-foundation-sdk/dist/dashboard";
import type * as GaugeModule from "@grafana/grafana-foundation-sdk/dist/gauge";
import type * as PrometheusModule from "@grafana/grafana-foundation-sdk/dist/prometheus";
import type * as StatModule from "@grafana/grafana-foundation-sdk/dist/stat";
import type * as TimeseriesModule from "@grafana/grafana-foundation-sdk/dist/timeseries";

export type { Builder } from "@grafana/grafana-foundation-sdk/dist/cog";
export type { Dashboard, DataSourceRef, Panel, RowPanel } from "@grafana/grafana-foundation-sdk/dist/dashboard";
/** The type side of `common` and `dashboard` (their enums and interfaces as types). */
export type { CommonModule as CommonTypes, DashboardModule as DashboardTypes };

/* eslint-disable @typescript-eslint/no-require-imports */
export const common: typeof CommonModule = require("@grafana/grafana-foundation-sdk/common");
export const dashboard: typeof DashboardModule = require("@grafana/grafana-foundation-sdk/dashboard");
export const gauge: typeof GaugeModule = require("@grafana/grafana-foundation-sdk/gauge");
export const prometheus: typeof PrometheusModule = require("@grafana/grafana-foundation-sdk/prometheus");
export const stat: typeof StatModule = require("@grafana/grafana-foundation-sdk/stat");
export const timeseries: typeof TimeseriesModule = require("@grafana/grafana-foundation-sdk/timeseries");
