/**
 * Exit codes of the session server process. The manager tells them apart in its logs; only
 * `Stopped` (0) means "exited by itself after reporting NotRunning".
 */
export const SessionServerExitCode = {
  /** Reported NotRunning and exited by itself (also a preloaded server stopped before use). */
  Stopped: 0,
  /** Reported Error (configuration or state change failed, or an internal fault) and exited. */
  Error: 1,
  /** Could not start: bad arguments, no control channel on fd 3, or the daemon refused the announce. */
  StartupFailed: 2,
  /** The control channel broke (the manager died): cleaned up and exited. */
  ControlChannelLost: 3,
  /** SIGINT: cleaned up and exited (128 + 2). */
  Interrupted: 130,
  /** SIGTERM: cleaned up and exited (128 + 15). */
  Terminated: 143,
} as const;

/** One of {@link SessionServerExitCode}. */
export type SessionServerExitCode =
  (typeof SessionServerExitCode)[keyof typeof SessionServerExitCode];
