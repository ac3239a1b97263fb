/** Types of mallocEnv.mjs (a plain module of the launchers, shared with the bench). */
export declare const MALLOC_ENV: Record<string, string>;
export declare function withMallocEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export declare function mallocTuned(): boolean;
