/**
 * Looking inside a `helm.v3.Release`: policies see the release's inputs (chart, values), never the objects Helm
 * installs. For a chart in this repository, the policies render it with the release's values and check what comes
 * out; a chart from a repository cannot be rendered here, so its values are checked instead.
 */
import { PROJECT_DIR } from "../components/localChart";
import { chartSource } from "./charts";
import { Rendered, renderChart } from "./render";

// The engine's markers for values not known until deploy time, as @pulumi/policy hands them to policies.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const markers = require("@pulumi/policy/proxy") as Record<string, unknown>;
const UNKNOWN_MARKERS = new Set(Object.entries(markers)
    .filter(([name, value]) => /^unknown[A-Z]\w*Value$/.test(name) && typeof value === "string")
    .map(([, value]) => value));

/** Whether `value` is a value the engine does not know yet (during a preview). */
export function isUnknown(value: unknown): boolean {
    return typeof value === "string" && UNKNOWN_MARKERS.has(value);
}

/**
 * The plain object behind @pulumi/policy's unknown-checking proxy (reading an unknown through the proxy throws,
 * which makes the engine skip the whole policy with a "can't run during preview" note). Plain objects pass through.
 */
export function unproxied<T>(value: T): T {
    const target = (value as { __getSpecialProxyTarget?: T } | null | undefined)?.__getSpecialProxyTarget;
    return target ?? value;
}

/** A digest placeholder for rendering while the real one is unknown: the image is built, and checked, on `pulumi up`. */
export const PREVIEW_DIGEST = `sha256:${"0".repeat(64)}`;

/**
 * Whether the release's inputs are the provider's shape of a preview in which some input is not known yet. For a
 * local chart the Kubernetes provider then skips loading the chart, and reports its `version` as "" (a release the
 * program gives a version never has ""); without `allowNullValues` it also drops an unknown value's key from the
 * values, so an image being built in this run has no `image.digest` at all (test/fixtures/real-preview).
 */
export function previewWithUnknowns(release: ReleaseProps): boolean {
    return release.version === "";
}

/**
 * The release's values ready to render. An unknown image digest (the image is built only on `pulumi up`) becomes a
 * placeholder, so a preview still checks everything else; the policies run again on `pulumi up` with the real one.
 * `digestPending` says that a missing `image.digest` is such an unknown one the provider dropped.
 * Any other unknown is read through the proxy, so the engine reports that the policy could not run in this preview.
 */
export function valuesForRender(values: unknown, digestPending = false): unknown {
    let rawValues = unproxied(values) as { image?: Record<string, unknown> } | undefined;
    const image = rawValues?.image;
    if (digestPending && image && typeof image === "object" && image.digest === undefined) {
        rawValues = { ...rawValues, image: { ...image, digest: PREVIEW_DIGEST } };
    }
    const walk = (node: unknown, route: (string | number)[]): unknown => {
        if (isUnknown(node)) {
            if (route[route.length - 1] === "digest") return PREVIEW_DIGEST;
            let through: any = values;
            for (const key of route) through = through?.[key]; // throws the engine's UnknownValueError
            throw new Error(`values.${route.join(".")} is not known during preview`);
        }
        if (Array.isArray(node)) return node.map((item, i) => walk(item, [...route, i]));
        if (node && typeof node === "object") {
            return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...route, k])]));
        }
        return node;
    };
    return walk(rawValues ?? {}, []);
}

/** A release as the policies see it. */
export type ReleaseView =
    | { readonly kind: "remote"; readonly chart: string; readonly label: string }
    | { readonly kind: "local"; readonly chart: string; readonly label: string; readonly rendered: Rendered };

/** The release's inputs a policy reads. */
export interface ReleaseProps {
    readonly chart?: string;
    readonly version?: string;
    readonly name?: string;
    readonly namespace?: string;
    readonly values?: Record<string, unknown>;
    readonly repositoryOpts?: { readonly repo?: string };
}

/** Classifies the release and, for a local chart, renders it with the release's values (cached). */
export async function viewRelease(release: ReleaseProps, resourceName: string, projectDir = PROJECT_DIR): Promise<ReleaseView> {
    const chart = String(release.chart ?? "");
    const name = release.name ?? resourceName;
    const source = chartSource(chart, release.repositoryOpts?.repo, projectDir);
    if (source.kind === "remote") {
        return { kind: "remote", chart, label: `release "${name}" (${chart})` };
    }
    const rendered = await renderChart({
        chartDir: source.dir,
        releaseName: name,
        namespace: release.namespace ?? "default",
        values: valuesForRender(release.values, previewWithUnknowns(release)),
    });
    return { kind: "local", chart, label: `release "${name}" (${chart} rendered with its values)`, rendered };
}
