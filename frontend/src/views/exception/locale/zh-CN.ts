export default {
  'exception.403': '无权限',
  'exception.404': '页面不存在',
} satisfies Record<string, string>
