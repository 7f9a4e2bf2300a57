import {
  APP_ID_PATTERN,
  AppConfig,
  compileValidator,
  DEFAULT_PLAYBACK_OPTIONS,
  DEFAULT_RESOURCES,
  describeValue,
  type LogLevel,
  type PlaybackOptions,
  type Resources,
  RialtoError,
  type SetConfigurationParams,
  type TargetState,
} from "@rialto/protocol";
import { resolveSocketPath } from "./runtime-dir.ts";

/** The configuration of one app with every default applied; kept across restarts. */
export interface ResolvedAppConfig {
  /** Absolute path of the app's client socket (the same after a restart). */
  socketPath: string;
  resources: Resources;
  logLevel: LogLevel;
  playback: PlaybackOptions;
  /** Extra environment of the app's session server (on top of the manager's `env`). */
  env: Record<string, string>;
  allowedUids?: number[];
}

const APP_ID = new RegExp(APP_ID_PATTERN);
const appConfigValidator = compileValidator(AppConfig);

/** Throws INVALID_ARGUMENT naming `method` unless `appId` matches the app-id grammar (SPEC 3). */
export function assertAppId(appId: unknown, method: string): asserts appId is string {
  if (typeof appId !== "string" || !APP_ID.test(appId)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${method}: app id ${describeValue(appId)} must match ${APP_ID_PATTERN}`,
    );
  }
}

/** Checks an app config against its schema; throws INVALID_ARGUMENT naming the first bad field. */
export function validateAppConfig(config: unknown, method: string): AppConfig {
  return appConfigValidator.assert(config ?? {}, `${method}: config`);
}

/** Applies the defaults of SPEC 3.1 to a validated app config. */
export function resolveAppConfig(
  appId: string,
  config: AppConfig,
  defaults: { runtimeDir: string; logLevel: LogLevel },
): ResolvedAppConfig {
  const resolved: ResolvedAppConfig = {
    socketPath: resolveSocketPath(defaults.runtimeDir, appId, config.sessionManagementSocketName),
    resources: { ...DEFAULT_RESOURCES, ...config.resources },
    logLevel: config.logLevel ?? defaults.logLevel,
    playback: { ...DEFAULT_PLAYBACK_OPTIONS, ...config.playback },
    env: { ...config.env },
  };
  if (config.allowedUids !== undefined) resolved.allowedUids = [...config.allowedUids];
  return resolved;
}

/** The `control/setConfiguration` params for an app. */
export function configurationParams(
  appId: string,
  config: ResolvedAppConfig,
  targetState: TargetState,
  socketPermissions: number,
): SetConfigurationParams {
  const params: SetConfigurationParams = {
    appId,
    socketPath: config.socketPath,
    socketPermissions,
    targetState,
    resources: config.resources,
    logLevel: config.logLevel,
    playback: config.playback,
  };
  if (config.allowedUids !== undefined) params.allowedUids = config.allowedUids;
  return params;
}
