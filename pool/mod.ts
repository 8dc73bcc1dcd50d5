/**
 * The `pool` module. Nothing is exported yet: see the project's issues.
 *
 * @module
 */
export {};
