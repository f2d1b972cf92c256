import * as z from "zod";

/** The jobs the stack schedules, one function each. */
export const JOBS = ["ingest-events", "ingest-reputation", "analyze"] as const;
export type Job = (typeof JOBS)[number];

/**
 * The payload each EventBridge Scheduler schedule sends (the stack's target input, with Scheduler's context
 * attributes filled in at invocation).
 */
export const SchedulerEventSchema = z.object({
  job: z.enum(JOBS),
  scheduledTime: z.iso.datetime({ offset: true }),
  executionId: z.string().min(1),
  scheduleArn: z.string().min(1),
  attemptNumber: z.coerce.number().int().min(0).optional(),
});
export type SchedulerEvent = z.infer<typeof SchedulerEventSchema>;

/** The target input the stack gives each schedule; `<aws.scheduler.*>` are Scheduler's context attributes. */
export function schedulerInput(job: Job): Record<string, string> {
  return {
    job,
    scheduledTime: "<aws.scheduler.scheduled-time>",
    executionId: "<aws.scheduler.execution-id>",
    scheduleArn: "<aws.scheduler.schedule-arn>",
    attemptNumber: "<aws.scheduler.attempt-number>",
  };
}

export function parseSchedulerEvent(event: unknown, expected: Job): SchedulerEvent {
  const parsed = SchedulerEventSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join(".") || "event"}: ${i.message}`)
      .join("; ");
    throw new Error(`not a bounce-radar schedule event: ${problems}`);
  }
  if (parsed.data.job !== expected)
    throw new Error(`this function runs "${expected}" but the event asks for "${parsed.data.job}"`);
  return parsed.data;
}
