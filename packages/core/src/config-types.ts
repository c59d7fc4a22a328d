/** The config file as the user writes it (after schema validation). */
export interface LinkConfig {
  name: string;
  interface: string;
  gateway?: string;
  weight?: number;
  snat?: string;
  mark?: number;
  table?: number;
}

export interface StrategyConfig {
  name: string;
  options?: Record<string, unknown>;
}

export interface Config {
  lan: string[];
  links: LinkConfig[];
  strategy?: string | StrategyConfig;
}
