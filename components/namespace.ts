import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { POD_SECURITY_EXEMPTION, podSecurityLabels, type PodSecurityLevel } from "./podSecurity";

// The labels and the exemption annotation are data the policy pack needs too, without this module's SDK imports.
export { POD_SECURITY_EXEMPTION, podSecurityLabels } from "./podSecurity";

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
