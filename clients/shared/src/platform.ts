// Placeholder: implemented by the shared package (see clients/shared)
export {}
