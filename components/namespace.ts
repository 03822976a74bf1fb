import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * Labels that make the API server enforce `enforce` and audit and warn at `restricted`, so anything
 * weaker than restricted at least shows up in `kubectl` warnings and audit logs.
 */
export function podSecurityLabels(enforce: PodSecurityLevel): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    };
}

/** A namespace with a fixed name (no random suffix: charts and commands refer to it) and PSS labels. */
export function securedNamespace(
    name: string,
    enforce: PodSecurityLevel,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(name, {
        metadata: { name, labels: { "app.kubernetes.io/managed-by": "pulumi", ...podSecurityLabels(enforce) } },
    }, opts);
}
