$(eval $(call program,anvilq,test-libexec,global util))
