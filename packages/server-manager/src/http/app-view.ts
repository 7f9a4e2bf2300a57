import type { ApplicationInfo, StatsEvent } from "@rialto/protocol";
import type { ServerManager } from "../server-manager.ts";
import type { PROCESS_SAMPLE_MS, ProcessSampler } from "./process-usage.ts";

/** One app as `/api/apps` and the web monitor show it. */
export interface AppView extends ApplicationInfo {
  /** Resident memory of its session server, bytes (absent while no process runs). */
  rssBytes?: number;
  /** CPU of its session server between its last two readings, percent of one core. */
  cpuPercent?: number;
  /** Its session server's last media report: clients, RPC counters, pipelines. */
  stats?: StatsEvent;
}

/**
 * `listApplications()` with each session server's memory and CPU (from `/proc`, at most
 * {@link PROCESS_SAMPLE_MS} old) and its last `control/stats` report.
 */
export function appViews(manager: ServerManager, processes: ProcessSampler): AppView[] {
  const alive = new Set<number>();
  const views = manager.listApplications().map((app): AppView => {
    const view: AppView = { ...app };
    if (app.pid !== undefined) {
      const usage = processes.usage(app.pid);
      if (usage !== undefined) {
        alive.add(app.pid);
        view.rssBytes = usage.rssBytes;
        view.cpuPercent = usage.cpuPercent;
      }
    }
    const stats = manager.getAppStats(app.appId);
    if (stats !== undefined) view.stats = stats;
    return view;
  });
  processes.retain(alive);
  return views;
}
