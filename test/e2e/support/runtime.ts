/**
 * How a container really runs, read from the runtime and the kernel rather than from its manifest: the real node's
 * containerd names the container's process (`ctr tasks list`), and /proc and the cgroup filesystem say which user it
 * runs as, which capabilities it holds, whether its root file system is read-only and which memory limit is enforced.
 */
import * as fs from "node:fs";
import * as assert from "node:assert/strict";

import type { LocalCluster } from "./cluster";

export interface ContainerProcess {
    readonly pid: number;
    /** /proc/<pid>/status, by field (Uid, Gid, CapEff, NoNewPrivs, Seccomp, ...). */
    readonly status: Readonly<Record<string, string>>;
    /** The mount options of the container's `/`, as its own mount namespace has them. */
    readonly rootMountOptions: readonly string[];
    /** The memory limit its cgroup enforces, in bytes. */
    readonly memoryLimitBytes: number;
    /** Its environment. */
    readonly environment: Readonly<Record<string, string>>;
}

/** The process of `container` in `pod` (namespace/name), as the node's runtime runs it. */
export async function containerProcess(cluster: LocalCluster, namespace: string, pod: string, container: string): Promise<ContainerProcess> {
    assert.ok(cluster.runtime, "a real node's runtime");
    const status = JSON.parse(await cluster.kubectl(["get", "pod", pod, "--namespace", namespace, "--output", "json"])).status;
    const id = (status.containerStatuses as { name: string; containerID: string }[]).find((c) => c.name === container)?.containerID
        ?.replace(/^containerd:\/\//, "");
    assert.ok(id, `pod ${pod} has no running container ${container}`);
    const task = (await cluster.runtime.ctr(["tasks", "list"])).split("\n").find((l) => l.startsWith(`${id} `));
    assert.ok(task, `containerd has no task for container ${id}`);
    const pid = Number(task.trim().split(/\s+/)[1]);

    const fields = Object.fromEntries(fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
    const root = fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n").find((l) => l.split(" ")[4] === "/");
    assert.ok(root, `no root mount in /proc/${pid}/mountinfo`);
    const memoryLimitBytes = memoryLimit(fs.readFileSync(`/proc/${pid}/cgroup`, "utf8"));
    const environment = Object.fromEntries(fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean)
        .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    return { pid, status: fields, rootMountOptions: root.split(" ")[5].split(","), memoryLimitBytes, environment };
}

/** The limit of the memory cgroup a process is in: cgroup v1's memory.limit_in_bytes, or v2's memory.max. */
function memoryLimit(cgroups: string): number {
    for (const line of cgroups.split("\n")) {
        const [, controllers, dir] = line.split(":");
        if (controllers?.split(",").includes("memory")) {
            return Number(fs.readFileSync(`/sys/fs/cgroup/memory${dir}/memory.limit_in_bytes`, "utf8").trim());
        }
        if (controllers === "" && fs.existsSync(`/sys/fs/cgroup/cgroup.controllers`)) {
            return Number(fs.readFileSync(`/sys/fs/cgroup${dir}/memory.max`, "utf8").trim());
        }
    }
    throw new Error(`no memory cgroup in:\n${cgroups}`);
}
