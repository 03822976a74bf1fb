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

/** Annotation that says why a namespace enforces less than restricted; policy requires it. */
export const POD_SECURITY_EXEMPTION = "hello.platform/pod-security-exemption";

/**
 * A namespace with a fixed name (no random suffix: charts and commands refer to it) and PSS labels.
 * Enforcing less than `restricted` takes a reason, recorded on the namespace for reviewers and policy.
 */
export function securedNamespace(
    name: string,
    pss: { readonly enforce: "restricted" } | { readonly enforce: Exclude<PodSecurityLevel, "restricted">; readonly reason: string },
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(name, {
        metadata: {
            name,
            labels: { "app.kubernetes.io/managed-by": "pulumi", ...podSecurityLabels(pss.enforce) },
            ...("reason" in pss && { annotations: { [POD_SECURITY_EXEMPTION]: pss.reason } }),
        },
    }, opts);
}
