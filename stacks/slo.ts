/** The stack's service level objectives in the form the monitoring rules take. */
import type { SloSettings } from "../monitoring/slo";
import type { StackSettings } from "./settings";

/** Percent (as platform engineers write it in a stack file) to ratio, without float noise (99.9 -> 0.999). */
const ratio = (percent: number) => Number((percent / 100).toFixed(6));

export function sloSettings(s: StackSettings): SloSettings {
    return {
        availability: { objective: ratio(s.sloAvailability) },
        latency: { thresholdSeconds: s.sloLatencyThreshold, objective: ratio(s.sloLatencyTarget) },
        window: "30d",
    };
}
