// Types of the npm package parse-prometheus-text-format (it ships none).
declare module "parse-prometheus-text-format" {
  /** One sample of a counter or gauge. */
  interface PrometheusSample {
    value: string;
    labels?: Record<string, string>;
  }
  /** One sample of a histogram. */
  interface PrometheusHistogramSample {
    buckets: Record<string, string>;
    count: string;
    sum: string;
    labels?: Record<string, string>;
  }
  /** One metric family of the exposition. */
  interface PrometheusFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: Array<PrometheusSample | PrometheusHistogramSample>;
  }
  /** Parses the Prometheus text exposition format; throws on malformed input. */
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
