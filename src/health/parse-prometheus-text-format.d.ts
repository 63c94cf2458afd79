/** Types for parse-prometheus-text-format 1.1.1 (the package ships none). */
declare module "parse-prometheus-text-format" {
  namespace parsePrometheusTextFormat {
    /** One sample; numbers stay text ("1027", "+Inf", "NaN"). */
    interface Sample {
      value?: string;
      labels?: Record<string, string>;
      timestamp_ms?: string;
      /** HISTOGRAM families, flattened to one entry: cumulative counts by `le`. */
      buckets?: Record<string, string>;
      /** SUMMARY families, flattened to one entry: values by `quantile`. */
      quantiles?: Record<string, string>;
      count?: string;
      sum?: string;
    }
    interface MetricFamily {
      name: string;
      help: string;
      type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED" | (string & {});
      metrics: Sample[];
    }
  }
  /** Parses Prometheus text exposition; throws on a malformed line. */
  function parsePrometheusTextFormat(text: string): parsePrometheusTextFormat.MetricFamily[];
  export = parsePrometheusTextFormat;
}
