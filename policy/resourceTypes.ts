/**
 * The Kubernetes resource classes the policies look at, by their Pulumi type tokens. `validateResourceOfType` needs
 * only a class's `__pulumiType` (@pulumi/policy compares it with each resource's type); loading @pulumi/kubernetes for
 * its classes cost every preview and every update about half a second of the pack's start (`npm run bench:policy`),
 * so only its types are imported, and test/policy.load.test.ts checks each token against the class it stands for.
 */
import type * as k8s from "@pulumi/kubernetes";

/** A stand-in for the class `C` that is its type token alone. */
function byToken<C>(token: string): C {
    return { __pulumiType: token } as unknown as C;
}

export const Pod = byToken<typeof k8s.core.v1.Pod>("kubernetes:core/v1:Pod");
export const Namespace = byToken<typeof k8s.core.v1.Namespace>("kubernetes:core/v1:Namespace");
export const Service = byToken<typeof k8s.core.v1.Service>("kubernetes:core/v1:Service");
export const Deployment = byToken<typeof k8s.apps.v1.Deployment>("kubernetes:apps/v1:Deployment");
export const StatefulSet = byToken<typeof k8s.apps.v1.StatefulSet>("kubernetes:apps/v1:StatefulSet");
export const DaemonSet = byToken<typeof k8s.apps.v1.DaemonSet>("kubernetes:apps/v1:DaemonSet");
export const ReplicaSet = byToken<typeof k8s.apps.v1.ReplicaSet>("kubernetes:apps/v1:ReplicaSet");
export const Job = byToken<typeof k8s.batch.v1.Job>("kubernetes:batch/v1:Job");
export const CronJob = byToken<typeof k8s.batch.v1.CronJob>("kubernetes:batch/v1:CronJob");
export const HorizontalPodAutoscalerV2 = byToken<typeof k8s.autoscaling.v2.HorizontalPodAutoscaler>(
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
export const HorizontalPodAutoscalerV1 = byToken<typeof k8s.autoscaling.v1.HorizontalPodAutoscaler>(
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler");
export const Release = byToken<typeof k8s.helm.v3.Release>("kubernetes:helm.sh/v3:Release");
