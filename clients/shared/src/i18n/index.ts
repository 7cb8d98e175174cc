// Placeholder: implemented by the shared package
export {}
