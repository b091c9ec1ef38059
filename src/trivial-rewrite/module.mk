$(eval $(call program,trivial-rewrite,libexec,global util))
