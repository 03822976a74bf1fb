/**
 * What `npm run dev` looks up on the machine before it decides anything (choose.ts decides): the commands on PATH,
 * whether Docker answers, kind's node image, which upstreams answer, and who holds a port.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

import { KUBE_PROMETHEUS_STACK } from "../../components/monitoringStack";
import { run } from "../lib/process";
import type { MachineFacts, Pins, Upstreams } from "./choose";

/** Where `name` is on PATH, if it is. */
export function onPath(name: string): string | undefined {
    return (process.env.PATH ?? "").split(":").filter(Boolean).map((d) => path.join(d, name)).find((p) => {
        try {
            fs.accessSync(p, fs.constants.X_OK);
            return fs.statSync(p).isFile();
        } catch {
            return false;
        }
    });
}

async function dockerState(): Promise<MachineFacts["docker"]> {
    const info = await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 20_000 }).catch(() => undefined);
    if (info === undefined) return "missing";
    return info.code === 0 ? "running" : "not-running";
}

async function kindNodeImage(image: string): Promise<MachineFacts["kindNodeImage"]> {
    if ((await run("docker", ["image", "inspect", image], { timeoutMs: 20_000 })).code === 0) return "present";
    // Asks the registry for the image's manifest only: kind pulls it when it creates the cluster.
    const manifest = await run("docker", ["manifest", "inspect", image], { timeoutMs: 20_000 });
    return manifest.code === 0 ? "pullable" : "unavailable";
}

/**
 * The machine, as far as the choice of cluster and engine needs it. kind's node image is looked up only where kind
 * could be chosen (Docker answers, and --cluster local was not given).
 */
export async function gatherFacts(opts: { readonly checkout: string; readonly kindNodeImageName: string; readonly lookForKind: boolean }): Promise<MachineFacts> {
    const docker = await dockerState();
    const kindBinary = onPath("kind") ?? (fs.existsSync(path.join(opts.checkout, ".tools", "bin", "kind")) ? "cache" : undefined);
    return {
        platform: process.platform,
        uid: process.getuid?.() ?? -1,
        docker,
        kind: kindBinary ? "found" : onPath("go") ? "buildable" : "missing",
        kindNodeImage: docker === "running" && opts.lookForKind ? await kindNodeImage(opts.kindNodeImageName) : undefined,
        kindNodeImageName: opts.kindNodeImageName,
        pulumi: onPath("pulumi") !== undefined,
        languageHost: onPath("pulumi-language-nodejs") !== undefined,
    };
}

/** app/Dockerfile's pinned base images and the pinned chart; `mirrorUrl` is where the stand-in chart is served. */
export function pins(checkout: string, mirrorUrl: string): Pins {
    const dockerfile = fs.readFileSync(path.join(checkout, "app", "Dockerfile"), "utf8");
    const arg = (name: string) => {
        const value = new RegExp(`^ARG ${name}=(\\S+)$`, "m").exec(dockerfile)?.[1];
        if (!value) throw new Error(`app/Dockerfile has no default for ${name}`);
        return value;
    };
    return {
        builderImage: arg("BUILDER_IMAGE"),
        runtimeImage: arg("RUNTIME_IMAGE"),
        chartRepository: KUBE_PROMETHEUS_STACK.repo,
        chartVersion: KUBE_PROMETHEUS_STACK.version,
        mirrorUrl,
    };
}

/** Whether `url` answers at all (any HTTP status) within 10 s. */
async function answers(url: string, ok: (status: number) => boolean = () => true): Promise<boolean> {
    try {
        return ok((await fetch(url, { method: "GET", signal: AbortSignal.timeout(10_000) })).status);
    } catch {
        return false;
    }
}

/** A registry's API endpoint: docker.io's is registry-1.docker.io. */
function registryApi(image: string): string {
    const host = image.split("/")[0];
    return `https://${host === "docker.io" ? "registry-1.docker.io" : host}/v2/`;
}

/** Which of the pinned upstreams answer: the base images' registries (any answer, a login asked for too) and the chart's index. */
export async function upstreamsAnswer(p: Pins): Promise<Upstreams> {
    const [builderRegistry, runtimeRegistry, chartRepository] = await Promise.all([
        answers(registryApi(p.builderImage)),
        answers(registryApi(p.runtimeImage)),
        answers(`${p.chartRepository.replace(/\/+$/, "")}/index.yaml`, (s) => s === 200),
    ]);
    return { builderRegistry, runtimeRegistry, chartRepository };
}

/** Undefined when `port` on 127.0.0.1 is free; else who holds it, as well as `ss` can tell. */
export async function portHolder(port: number): Promise<string | undefined> {
    const free = await new Promise<boolean>((resolve) => {
        const srv = net.createServer();
        srv.once("error", () => resolve(false));
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (free) return undefined;
    const ss = await run("ss", ["-ltnpH", `sport = :${port}`]).catch(() => undefined);
    const proc = /users:\(\("([^"]+)",pid=(\d+)/.exec(ss?.stdout ?? "");
    return proc ? `${proc[1]} (pid ${proc[2]})` : "another process";
}
