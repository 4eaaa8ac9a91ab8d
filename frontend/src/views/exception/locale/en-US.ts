export default {
  'exception.403': 'No permission',
  'exception.404': 'Page not found',
} satisfies Record<string, string>
