/**
 * What `npm run dev` decides from what the machine has, as pure functions (the specs call them with made-up machines):
 * which cluster (kind, or the project's own local cluster), which engine (the Pulumi CLI, or the Automation API with the
 * pinned CLI), and where each download comes from (upstream, the stack's mirror setting, or a stand-in). Each decision
 * comes with the one line that tells the user why.
 */
import type { BackgroundCluster, NodeOnMachine } from "../../localcluster/background";
import { describeOwner } from "../../localcluster/background";
import type { NodeLease } from "../../localcluster/machineLock";

export type ClusterKind = "kind" | "local";
export type Engine = "cli" | "automation";

/** What npm run dev found on the machine. */
export interface MachineFacts {
    readonly platform: NodeJS.Platform;
    readonly uid: number;
    readonly docker: "missing" | "not-running" | "running";
    /** kind on PATH or in the tool cache, else buildable with Go, else neither. */
    readonly kind: "found" | "buildable" | "missing";
    /** kind's pinned node image: on this machine, its registry answers for it, or neither. Unknown without Docker. */
    readonly kindNodeImage?: "present" | "pullable" | "unavailable";
    /** The image kind's node runs, for the messages. */
    readonly kindNodeImageName: string;
    /** `pulumi` on PATH. */
    readonly pulumi: boolean;
    /** `pulumi-language-nodejs` on PATH: what `pulumi up` of a TypeScript project runs the program with. */
    readonly languageHost: boolean;
}

/** A message for the user: printed as it is, without a stack trace. */
export class DevError extends Error {}

export interface Choice<T> {
    readonly value: T;
    /** One line: what was chosen and why. */
    readonly line: string;
}

const shortImage = (image: string) => image.split("@")[0];

/** Something a cluster needs that the machine lacks: what (short, for the choice's line) and what to do. */
interface Lack {
    readonly what: string;
    readonly todo: string;
}

const line = (l: Lack) => `${l.what}: ${l.todo}`;

function kindLacks(f: MachineFacts): Lack[] {
    const lacks: Lack[] = [];
    if (f.docker === "missing") lacks.push({ what: "docker: not found", todo: "install Docker Engine (https://docs.docker.com/engine/install/)" });
    if (f.docker === "not-running") {
        lacks.push({ what: "docker: its daemon does not answer", todo: "start Docker, or add yourself to the docker group (docker info failed)" });
    }
    if (f.kind === "missing") {
        lacks.push({ what: "kind: not found, and no Go to build it", todo: "install Go 1.26 (https://go.dev/dl/) and npm run dev builds the pinned kind v0.29.0, or install kind yourself" });
    }
    if (f.kindNodeImage === "unavailable") {
        lacks.push({ what: `kind's node image ${shortImage(f.kindNodeImageName)} is not on this machine and its registry does not answer`, todo: "docker pull it where a registry answers" });
    }
    return lacks;
}

/** What kind lacks here, one line each; empty when kind can run. */
export function kindMissing(f: MachineFacts): string[] {
    return kindLacks(f).map(line);
}

/** What the project's local cluster lacks here before its own checks (localcluster/realNode.ts), one line each. */
export function localMissing(f: MachineFacts): string[] {
    const missing: string[] = [];
    if (f.platform !== "linux") missing.push(`Linux: the local cluster runs a kubelet on this machine (this is ${f.platform})`);
    if (f.uid !== 0) {
        missing.push(`root: the local cluster's node mounts volumes, writes iptables rules and cgroups (running as uid ${f.uid}): run it as root, e.g. sudo npm run dev`);
    }
    return missing;
}

function listed(title: string, lines: readonly string[], indent = "  "): string {
    return [title, ...lines.map((l) => `${indent}- ${l}`)].join("\n");
}

/**
 * kind where kind, Docker and kind's node image are there; else the project's own cluster where it can run (Linux, as
 * root); `override` (--cluster) insists on one. Throws a DevError naming what is missing.
 */
export function chooseCluster(f: MachineFacts, override?: ClusterKind): Choice<ClusterKind> {
    const kind = kindMissing(f);
    const local = localMissing(f);
    if (override === "kind") {
        if (kind.length) throw new DevError(listed("npm run dev --cluster kind needs:", kind));
        return { value: "kind", line: "cluster: kind (--cluster kind)" };
    }
    if (override === "local") {
        if (local.length) throw new DevError(listed("npm run dev --cluster local needs:", local));
        return { value: "local", line: "cluster: the project's local cluster with a real node (--cluster local)" };
    }
    if (kind.length === 0) {
        return { value: "kind", line: "cluster: kind, because kind, Docker and kind's node image are here (--cluster local for the project's own)" };
    }
    if (local.length === 0) {
        return {
            value: "local",
            line: `cluster: the project's local cluster with a real node, kept running in the background until npm run dev:down, because ` +
                `${kindLacks(f).map((l) => l.what).join("; ")}`,
        };
    }
    throw new DevError([
        "npm run dev needs a cluster, and this machine can run neither:",
        listed("  kind needs:", kind, "    "),
        listed("  the project's local cluster needs:", local, "    "),
    ].join("\n"));
}

/** The Pulumi CLI where it can run the program (its Node.js language host is there); else the Automation API. */
export function chooseEngine(f: MachineFacts): Choice<Engine> {
    if (f.pulumi && f.languageHost) {
        return { value: "cli", line: "engine: the Pulumi CLI on PATH (pulumi up --refresh)" };
    }
    const why = f.pulumi
        ? "the Pulumi CLI on PATH has no Node.js language host (pulumi-language-nodejs)"
        : "no Pulumi CLI on PATH";
    return {
        value: "automation",
        line: `engine: the Automation API with the pinned Pulumi CLI (scripts/tools.sh e2e), because ${why}; the same program, Pulumi.dev.yaml and state in .pulumi/`,
    };
}

/** What the chosen engine needs besides the cluster, one line each. */
export function engineMissing(engine: Engine, f: MachineFacts, buildsImage: boolean): string[] {
    if (engine === "cli") {
        return f.docker === "running" ? [] : ["docker: the Pulumi CLI path builds the image with the docker provider, which needs a Docker engine that answers"];
    }
    return buildsImage && f.uid !== 0
        ? [`root: the Automation API path builds the image with the pinned BuildKit, which runs containers (running as uid ${f.uid}): run as root, install the Pulumi CLI (https://www.pulumi.com/docs/install/), or set hello-service:prebuiltImage`]
        : [];
}

/** Where a download comes from. */
export type Source = "setting" | "upstream" | "standin";

/** The settings that name a mirror (or a prebuilt image), as the dev stack file has them. */
export interface MirrorSettings {
    readonly builderImage?: string;
    readonly runtimeImage?: string;
    readonly monitoringChartRepository?: string;
}

/** Which upstreams answered. */
export interface Upstreams {
    readonly builderRegistry: boolean;
    readonly runtimeRegistry: boolean;
    readonly chartRepository: boolean;
}

export interface Sources {
    readonly builder: Source;
    readonly runtime: Source;
    readonly chart: Source;
}

/** The stack's mirror setting where there is one, else upstream where it answers, else the stand-in. */
export function chooseSources(settings: MirrorSettings, answers: Upstreams): Sources {
    const pick = (setting: string | undefined, upstream: boolean): Source => (setting !== undefined ? "setting" : upstream ? "upstream" : "standin");
    return {
        builder: pick(settings.builderImage, answers.builderRegistry),
        runtime: pick(settings.runtimeImage, answers.runtimeRegistry),
        chart: pick(settings.monitoringChartRepository, answers.chartRepository),
    };
}

/** The pinned upstreams, for the stand-in lines. */
export interface Pins {
    /** app/Dockerfile's BUILDER_IMAGE and RUNTIME_IMAGE defaults. */
    readonly builderImage: string;
    readonly runtimeImage: string;
    /** kube-prometheus-stack's repository and version. */
    readonly chartRepository: string;
    readonly chartVersion: string;
    /** Where the stand-in chart is served. */
    readonly mirrorUrl: string;
}

const registryOf = (image: string) => image.split("/")[0];

/** One line per stand-in: what stands in, why, and the setting that gives the real thing. */
export function standinLines(sources: Sources, pins: Pins): string[] {
    const lines: string[] = [];
    if (sources.builder === "standin") {
        lines.push(`stand-in: the build's base image ${shortImage(pins.builderImage)} is made from this machine's Go toolchain, because ` +
            `${registryOf(pins.builderImage)} does not answer; set hello-service:builderImage to a mirror of it for the real one`);
    }
    if (sources.runtime === "standin") {
        lines.push(`stand-in: the runtime base image ${shortImage(pins.runtimeImage)} is made from this machine's CA certificates with the ` +
            `nonroot user, because ${registryOf(pins.runtimeImage)} does not answer; set hello-service:runtimeImage to a mirror of it for the real one`);
    }
    if (sources.chart === "standin") {
        lines.push(`stand-in: kube-prometheus-stack ${pins.chartVersion} holds the real Prometheus Operator CRDs and runs nothing (no Prometheus, ` +
            `no Grafana), served on ${pins.mirrorUrl}, because ${new URL(pins.chartRepository).host} does not answer; ` +
            "set hello-service:monitoringChartRepository to a mirror of the chart for the real one");
    }
    return lines;
}

/** What to do about the machine's real node before npm run dev uses the local cluster. */
export type LocalClusterPlan =
    | { readonly action: "reuse"; readonly cluster: BackgroundCluster; readonly line: string }
    | { readonly action: "clean"; readonly lease: NodeLease; readonly line: string }
    | { readonly action: "start" };

/**
 * The local cluster this checkout's npm run dev started is reused while its owner runs; one whose owner is gone is
 * cleaned up, then a new one starts; any other node (another checkout's, a test run's) is left alone, and npm run dev
 * says so and stops: one real node per machine, never two, and npm run dev does not wait.
 */
export function planLocalCluster(found: NodeOnMachine, want: { readonly checkout: string; readonly context: string; readonly registry: string; readonly stackFile: string }): LocalClusterPlan {
    switch (found.state) {
        case "none":
            return { action: "start" };
        case "leftover":
            return {
                action: "clean", lease: found.lease,
                line: `cluster: cleaning up the local cluster of pid ${found.lease.pid} (${found.lease.purpose}), which ended without stopping it`,
            };
        case "starting":
            throw new DevError(`another npm run dev is starting the machine's local cluster (${describeOwner(found.lease)}): wait for it, then run npm run dev again`);
        case "other":
            throw new DevError(`a local cluster with a real node already runs on this machine (${describeOwner(found.lease)}): one per machine, ` +
                "and npm run dev does not wait for it: run npm run dev again once it has stopped");
        case "background": {
            const c = found.cluster;
            if (c.checkout !== want.checkout) {
                throw new DevError(`the machine's local cluster runs for npm run dev of ${c.checkout} (pid ${c.pid}, since ${c.startedAt}), ` +
                    "and there is one real node per machine: run npm run dev:down there first");
            }
            if (c.context !== want.context || c.registry !== want.registry) {
                throw new DevError(`the running local cluster was started for kubeContext ${c.context} and registry ${c.registry}, and ` +
                    `${want.stackFile} now says ${want.context} and ${want.registry}: run npm run dev:down, then npm run dev`);
            }
            return { action: "reuse", cluster: c, line: `cluster: reusing the local cluster npm run dev started (pid ${c.pid}, since ${c.startedAt})` };
        }
    }
}
