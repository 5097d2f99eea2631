// Types for parse-prometheus-text-format (the package ships none): the Prometheus text
// exposition format parsed into families, as its README documents.
declare module 'parse-prometheus-text-format' {
  export interface Sample { value: string; labels?: Record<string, string> }
  /** count and sum go missing for labelled histograms in 1.1.1: read the +Inf bucket for the count. */
  export interface HistogramSample { buckets: Record<string, string>; count?: string; sum?: string; labels?: Record<string, string> }
  export interface MetricFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: (Sample | HistogramSample)[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
