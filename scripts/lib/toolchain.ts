/**
 * The pinned toolchain of the real-engine tier, `npm run bench:deploy` and `npm run dev` on its Automation API path:
 * built from the Go module proxy by `scripts/tools.sh e2e` into the per-machine cache (the first run takes about half an hour on two cores; it prints a line per tool while it builds), linked into
 * the clone's .tools/.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { repoRoot } from "./images";

export interface Toolchain {
    /** Holds pulumi, pulumi-resource-kubernetes, etcd, kube-* (kubelet and kube-proxy too), kubectl, kwok, helm and prometheus3. */
    readonly bin: string;
    /** The kwok stages that make simulated nodes and pods behave. */
    readonly kwokStages: readonly string[];
    /** The Prometheus Operator's CRD manifests. */
    readonly operatorCrds: string;
}

/** What each group of scripts/tools.sh puts in the bin directory, as far as the tier uses it. */
const BINARIES = {
    cluster: ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl", "kwok"],
    test: ["helm"],
    e2e: ["pulumi", "pulumi-resource-kubernetes", "prometheus3"],
} as const;
type Group = keyof typeof BINARIES;

/**
 * Builds what is missing (its progress lines go to this process's stderr) and returns the paths.
 * @param groups the tools.sh groups needed. @default the whole tier's: test and e2e (which includes cluster)
 */
export async function ensureToolchain(groups: readonly Group[] = ["test", "e2e"]): Promise<Toolchain> {
    const bin = await new Promise<string>((resolve, reject) => {
        const child = spawn("bash", [path.join(repoRoot, "scripts", "tools.sh"), ...groups], {
            stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(out.trim().split("\n").pop()!) : reject(
            new Error(`scripts/tools.sh ${groups.join(" ")} exited with ${code}; its output above says which build failed`))));
    });
    const expected = groups.flatMap((g) => [...BINARIES[g], ...(g === "e2e" ? BINARIES.cluster : [])]);
    const missing = expected.filter((b) => !fs.existsSync(path.join(bin, b)));
    if (missing.length > 0) throw new Error(`scripts/tools.sh ${groups.join(" ")} left out ${missing.join(", ")}`);
    const share = path.join(bin, "..", "share");
    const stagesDir = path.join(share, "kwok-stages");
    return {
        bin,
        kwokStages: fs.readdirSync(stagesDir).filter((f) => f.endsWith(".yaml")).map((f) => path.join(stagesDir, f)),
        operatorCrds: path.join(share, "prometheus-operator-crds"),
    };
}
